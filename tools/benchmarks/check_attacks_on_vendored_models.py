"""The attacks on the vendored CIFAR-10 models, beside their published numbers.

Evaluates the vendored CIFAR-10 checkpoints on 1,000 test images (the first
100 files, sorted, of each class folder of ``data/cifar10/test``) and prints
clean, FGSM and PGD-20 (L∞, uniform random start, step 2.5·ε/20, CE)
accuracies at 2/255 and 8/255, optionally AutoAttack (standard), to read
beside the numbers published with the weights (resnet4b clean 76.5%, PGD-20
61.1% @2/255, 15.4% @8/255; ResNet-20 PGD-20 ≈ 1% @2/255, 0% @8/255).

Usage (from the repository root)::

    python tools/benchmarks/check_attacks_on_vendored_models.py \
        [--models resnet4b resnet20] [--autoattack] [--threads 1]
"""
import argparse
import os
import os.path as osp
import time

import numpy as np
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS
from PIL import Image

import kdiga_mmrazor  # noqa: F401  (registers backbones)
import kdiga_mmrazor.attacks  # noqa: F401  (registers attacks)
from kdiga_mmrazor.registry import ATTACKS
from kdiga_mmrazor.utils import PixelNormalize, PixelSpaceClassifier

PRESETS = {
    'resnet4b': ('configs/resnet4b_cifar10.py',
                 'checkpoints/abcrown_resnet4b_linf2.pth'),
    'resnet20': ('configs/resnet20_cifar10.py',
                 'checkpoints/akamaster_resnet20.th'),
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--models', nargs='+', default=list(PRESETS), choices=list(PRESETS))
    parser.add_argument('--data-root', default='data/cifar10/test')
    parser.add_argument('--per-class', type=int, default=100)
    parser.add_argument('--batch-size', type=int, default=250)
    parser.add_argument(
        '--autoattack', action='store_true', help='also AutoAttack standard')
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--device', default=None,
                        help='defaults to cuda if available, else cpu')
    return parser.parse_args()


def load_subset(root: str, per_class: int):
    """The first ``per_class`` files (sorted) of each class folder, as
    ``x ∈ [0, 1]`` (N, 3, 32, 32) and labels in sorted-folder order."""
    classes = sorted(
        d for d in os.listdir(root) if osp.isdir(osp.join(root, d)))
    images, labels = [], []
    for label, name in enumerate(classes):
        files = sorted(os.listdir(osp.join(root, name)))[:per_class]
        for file in files:
            with Image.open(osp.join(root, name, file)) as img:
                images.append(np.asarray(img.convert('RGB')))
            labels.append(label)
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255
    return x.contiguous(), torch.tensor(labels)


def load_model(config: str, checkpoint: str) -> PixelSpaceClassifier:
    cfg = Config.fromfile(config)
    model = MODELS.build(cfg.model)
    model.backbone.init_cfg = dict(type='Pretrained', checkpoint=checkpoint)
    model.init_weights()
    normalize = PixelNormalize.from_preprocessor(model.data_preprocessor)
    return PixelSpaceClassifier(model, normalize).eval()


def accuracy(net, attack, x, y, batch_size: int) -> float:
    correct = 0
    for i in range(0, len(x), batch_size):
        xb, yb = x[i:i + batch_size], y[i:i + batch_size]
        if attack is not None:
            xb = attack(net, xb, yb)
        with torch.no_grad():
            correct += (net(xb).argmax(1) == yb).sum().item()
    return 100.0 * correct / len(x)


def main():
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device or (
        'cuda' if torch.cuda.is_available() else 'cpu'))
    x, y = load_subset(args.data_root, args.per_class)
    x, y = x.to(device), y.to(device)
    attacks = [None, dict(type='FGSMAttack', eps=2 / 255),
               dict(type='FGSMAttack', eps=8 / 255),
               dict(type='PGDAttack', eps=2 / 255, steps=20),
               dict(type='PGDAttack', eps=8 / 255, steps=20)]
    if args.autoattack:
        attacks += [dict(type='AutoAttack', eps=2 / 255),
                    dict(type='AutoAttack', eps=8 / 255)]
    print(f'{len(x)} CIFAR-10 test images ({args.per_class} per class), '
          f'device {device}')
    for key in args.models:
        net = load_model(*PRESETS[key]).to(device)
        for cfg in attacks:
            attack = None if cfg is None else ATTACKS.build(cfg)
            name = 'clean' if attack is None else attack.name
            start = time.time()
            acc = accuracy(net, attack, x, y, args.batch_size)
            print(f'{key:10s} {name:20s} {acc:6.1f}%  '
                  f'({time.time() - start:.0f} s)', flush=True)


if __name__ == '__main__':
    main()
