# CIFAR ResNet-20 (He et al. 2016), with its own normalisation.
# Weights: checkpoints/akamaster_resnet20.th (standard training;
# BSD-2-Clause, checkpoints/LICENSE.akamaster).
resnet20_cifar = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=10,
        mean=[123.675, 116.28, 103.53],  # (0.485, 0.456, 0.406) · 255
        std=[58.395, 57.12, 57.375],  # (0.229, 0.224, 0.225) · 255
        to_rgb=False),
    backbone=dict(type='CifarResNet', depth=20, num_classes=10),
    head=dict(
        type='ClsHead', loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
