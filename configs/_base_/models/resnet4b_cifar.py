# resnet4b (alpha-beta-CROWN zoo) for CIFAR-10, with its own normalisation.
# Weights: checkpoints/abcrown_resnet4b_linf2.pth (L∞ 2/255 adversarially
# trained; BSD-3-Clause, checkpoints/LICENSE.alpha-beta-crown).
resnet4b_cifar = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=10,
        mean=[125.307, 122.961, 113.8575],  # (0.4914, 0.4822, 0.4465) · 255
        std=[63.0105, 62.0925, 66.708],  # (0.2471, 0.2435, 0.2616) · 255
        to_rgb=False),
    backbone=dict(type='ResNet4b', num_classes=10),
    head=dict(
        type='ClsHead', loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
