# A ViT-Tiny for 32×32 CIFAR images: patch 4 (8×8 = 64 tokens), 192 dims,
# 12 layers, 3 heads (DeiT-Tiny's widths). Trained from scratch.
vit_tiny_p4_cifar = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=10,
        mean=[125.307, 122.961, 113.8575],
        std=[63.0105, 62.0925, 66.708],
        to_rgb=False),
    backbone=dict(
        type='VisionTransformer',
        arch='deit-tiny',
        img_size=32,
        patch_size=4,
        drop_path_rate=0.1),
    neck=None,
    head=dict(
        type='VisionTransformerClsHead',
        num_classes=10,
        in_channels=192,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
