# Plain MMRazor KD (α=0.5, τ=1): robust resnet4b (L∞ 2/255) → ResNet-20 from
# scratch, CIFAR-10, 1 GPU × 128, 200 epochs, trained and evaluated exactly
# as kdiga_resnet4b_resnet20_cifar10.py (its base) without the alignment
# term. α is `model.alpha`, as in the KDIGA configs.
# Measured (4 epochs, CPU, `train_cfg.max_iters=1564`): clean 73.4 | PGD-20
# @2/255 35.9 (1,000 images). Full length: not yet measured.
#
# Why MMRazor's own SingleTeacherDistill here, and KDIGADistill without its
# alignment term in the other KD twins (kl_only.py): this pair shares one
# normalisation (the student trains from scratch and adopts the teacher's),
# so stock MMRazor KD is the honest baseline and shows that the plugin's
# robust evaluation works on MMRazor's own algorithm. SingleTeacherDistill
# feeds both models one preprocessed batch, so the teacher's mean/std moves
# to the algorithm's data_preprocessor; the student's own says the same,
# which keeps a student exported by
# tools/model_converters/export_student.py self-describing.
# With the plugin imported, MMRazor's teacher_ckpt loads strictly (keys and
# shapes checked, sha256 logged; a bare-backbone checkpoint gets
# 'backbone.'), as in the KDIGA configs.
_base_ = [
    './kdiga_resnet4b_resnet20_cifar10.py',
    './_base_/distill/kd.py',  # defines `kd_distill`
]
model = dict(
    _delete_=True,
    **dict(
        _base_.kd_distill,
        data_preprocessor=dict(
            _base_.resnet4b_cifar.data_preprocessor,
            type='mmpretrain.ClsDataPreprocessor'),
        architecture=_base_.model.architecture,
        teacher=_base_.resnet4b_cifar,
        teacher_ckpt='checkpoints/abcrown_resnet4b_linf2.pth'))
find_unused_parameters = True
