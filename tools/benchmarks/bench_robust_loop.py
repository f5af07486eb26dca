"""Overhead of PGD evaluation through RobustTestLoop over a plain PGD loop.

Both evaluate the same batches with the same model (resnet4b, its
normalisation inside, random weights unless ``--checkpoint``) and the same
L∞ PGD (uniform random start, ``--steps`` sign steps of 2.5·ε/steps, CE):

* *loop*: ``runner.test_loop.run()`` of an MMEngine Runner with
  ``RobustTestLoop`` (default settings: the dataloader's evaluator, the
  sanity checks on the first batch, hooks and logging all on);
* *plain*: a hand-written PyTorch loop over the same dataloader (same
  batches): stack the images, scale to ``[0, 1]``, clean forward, PGD with
  ``torch.autograd.grad``, adversarial forward, accuracy counts.

Labels are the model's own clean predictions, so both attack every image.
Runs alternate (loop, plain, plain, loop, ...) to spread the noise of a
busy machine over both; the medians and their ratio are printed.

Usage (from the repository root)::

    python tools/benchmarks/bench_robust_loop.py [--num-images 512]
        [--batch-size 128] [--steps 20] [--repeats 5] [--threads 1]
"""
import argparse
import logging
import statistics
import tempfile
import time

import torch
from mmengine.config import Config
from mmengine.registry import DATASETS
from mmengine.runner import Runner
from mmpretrain.structures import DataSample
from torch.nn import functional as F
from torch.utils.data import Dataset

import kdiga_mmrazor  # noqa: F401  (compat, backbones, attacks)
import kdiga_mmrazor.evaluation  # noqa: F401  (robust loops, metrics)
from kdiga_mmrazor.utils import as_pixel_classifier


@DATASETS.register_module(force=True)
class BenchImages(Dataset):
    """In-memory uint8 images and labels (set after construction)."""

    def __init__(self, num_images=256, seed=0):
        gen = torch.Generator().manual_seed(seed)
        self.images = torch.randint(
            0, 256, (num_images, 3, 32, 32), generator=gen,
            dtype=torch.uint8)
        self.labels = torch.zeros(num_images, dtype=torch.long)
        self.metainfo = dict(classes=tuple(str(i) for i in range(10)))

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return dict(
            inputs=self.images[i],
            data_samples=DataSample().set_gt_label(int(self.labels[i])))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-images', type=int, default=512)
    parser.add_argument('--batch-size', type=int, default=128)
    parser.add_argument('--steps', type=int, default=20)
    parser.add_argument('--eps', type=float, default=8 / 255)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--checkpoint', help='resnet4b weights (optional)')
    return parser.parse_args()


def build_runner(args, work_dir: str) -> Runner:
    model = Config.fromfile(
        'configs/_base_/models/resnet4b_cifar.py').resnet4b_cifar
    if args.checkpoint:
        model.backbone.init_cfg = dict(
            type='Pretrained', checkpoint=args.checkpoint)
    cfg = dict(
        work_dir=work_dir,
        default_scope='mmpretrain',
        model=model,
        test_dataloader=dict(
            dataset=dict(type='BenchImages', num_images=args.num_images),
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=args.batch_size,
            num_workers=0),
        test_evaluator=dict(type='Accuracy'),
        test_cfg=dict(
            type='RobustTestLoop',
            attacks=[
                dict(type='PGDAttack', eps=args.eps, steps=args.steps)
            ]),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
        log_level='WARNING',
        experiment_name=f'bench_robust_loop_{time.time():.6f}')
    runner = Runner.from_cfg(cfg)
    if args.checkpoint:
        runner.model.init_weights()
    return runner


def plain_pgd_loop(net, dataloader, eps: float, alpha: float, steps: int,
                   seed: int = 0):
    """Clean and PGD accuracy counts, plain PyTorch."""
    clean = robust = 0
    for data in dataloader:
        x = torch.stack(data['inputs']).float() / 255
        y = torch.tensor([int(s.gt_label) for s in data['data_samples']])
        with torch.no_grad():
            correct = net(x).argmax(1) == y
        gen = torch.Generator().manual_seed(seed)
        x_adv = (x + eps * (2 * torch.rand(x.shape, generator=gen) - 1))
        x_adv = x_adv.clamp(0, 1)
        for _ in range(steps):
            x_adv.requires_grad_(True)
            loss = F.cross_entropy(net(x_adv), y, reduction='sum')
            grad, = torch.autograd.grad(loss, x_adv)
            x_adv = x_adv.detach() + alpha * grad.sign()
            x_adv = torch.min(torch.max(x_adv, x - eps), x + eps).clamp(0, 1)
        with torch.no_grad():
            robust += (correct & (net(x_adv).argmax(1) == y)).sum().item()
        clean += correct.sum().item()
    return clean, robust


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as work_dir:
        runner = build_runner(args, work_dir)
        loop = runner.test_loop
        runner.call_hook('before_run')  # as runner.test() does
        net = as_pixel_classifier(runner.model).eval()
        net.requires_grad_(False)
        dataset = loop.dataloader.dataset.dataset
        x_all = dataset.images.float() / 255
        with torch.no_grad():  # labels: the model's own predictions
            dataset.labels = torch.cat([
                net(x_all[i:i + args.batch_size]).argmax(1)
                for i in range(0, len(x_all), args.batch_size)
            ])
        net.requires_grad_(True)
        alpha = 2.5 * args.eps / args.steps
        logging.getLogger('mmengine').setLevel(logging.WARNING)

        results = {}

        def run_loop(bare: bool = False):
            evaluator, sanity = loop.run_evaluator, loop.robust.sanity
            if bare:
                loop.run_evaluator, loop.robust.sanity = False, None
            metrics = loop.run()
            loop.run_evaluator, loop.robust.sanity = evaluator, sanity
            results['loop'] = metrics[f'robust/{loop.attacks[0].name}/acc']

        def run_plain():
            frozen = [p.requires_grad for p in net.parameters()]
            net.requires_grad_(False)
            clean, robust = plain_pgd_loop(net, loop.dataloader, args.eps,
                                           alpha, args.steps)
            for p, flag in zip(net.parameters(), frozen):
                p.requires_grad_(flag)
            results['plain'] = 100 * robust / len(x_all)

        variants = [('loop', run_loop), ('plain', run_plain),
                    ('loop_bare', lambda: run_loop(bare=True))]
        for _, fn in variants:  # warm-up, not timed
            fn()
        times = {name: [] for name, _ in variants}
        for r in range(args.repeats):  # rotate the order every round
            for name, fn in variants[r % 3:] + variants[:r % 3]:
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)

    med = {k: statistics.median(v) for k, v in times.items()}
    print(f'{args.num_images} images, batch {args.batch_size}, PGD-'
          f'{args.steps} L∞ eps={args.eps * 255:g}/255, '
          f'{args.threads} thread(s), {args.repeats} repeats')
    for name, values in times.items():
        print(f'{name:9s} times (s): ' + ', '.join(f'{t:.2f}'
                                                   for t in values))
    print(f'PGD accuracy: loop {results["loop"]:.2f}%, plain '
          f'{results["plain"]:.2f}%')
    print(f'median: loop {med["loop"]:.2f} s, plain {med["plain"]:.2f} s, '
          f'ratio {med["loop"] / med["plain"]:.3f}')
    print(f'without the evaluator and sanity checks (run_evaluator=False, '
          f'sanity_checks=False): {med["loop_bare"]:.2f} s, ratio '
          f'{med["loop_bare"] / med["plain"]:.3f}')


if __name__ == '__main__':
    main()
