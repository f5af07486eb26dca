# KDIGA from a teacher of your own architecture: a third-party CIFAR-10
# network (examples/own_teacher/small_cnn.py, a bare nn.Sequential state
# dict with keys 0.weight, 3.weight, ...) → ResNet-20, trained as
# ../kdiga_resnet4b_resnet20_cifar10.py. The teacher dict replaces the
# base's resnet4b wholly (`_delete_=True`: none of its keys leak in).
# Its robust test alone, with its own normalisation, needs no config:
#   python tools/test.py configs/examples/kdiga_smallcnn_resnet20_cifar10.py \
#       small_cnn.pth --teacher --attacks pgd20_linf_2
# Measured: not yet measured (no trained third-party weights are vendored).
_base_ = ['../kdiga_resnet4b_resnet20_cifar10.py']
custom_imports = dict(
    imports=['kdiga_mmrazor', 'examples.own_teacher.small_cnn'],
    allow_failed_imports=False)
model = dict(
    teacher=dict(
        _delete_=True,
        _scope_='mmpretrain',
        type='ImageClassifier',
        data_preprocessor=dict(
            type='ClsDataPreprocessor',
            num_classes=10,
            mean=[125.307, 122.961, 113.8575],  # the third party's
            std=[63.0105, 62.0925, 66.708],
            to_rgb=False),
        backbone=dict(type='SmallCNN', num_classes=10),
        head=dict(type='ClsHead')),
    teacher_ckpt='checkpoints/small_cnn.pth')  # the third party's file
