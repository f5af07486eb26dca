"""Seconds per training step and peak memory: plain KD, KDIGA, reference.

Builds teacher and student from a KDIGA config, then times, interleaved in
one process on the same batches (so ratios hold on a noisy machine):

* ``plain KD``: ``KDIGADistill`` with the alignment loss removed (one
  teacher forward under ``no_grad``, one student forward/backward);
* ``KDIGA``: the config's ``KDIGADistill`` train step;
* ``reference``: the step as the authors' code writes it
  (RulinShao/AdversariallyRobustDistillation ``main.py``, ``kdiga``): each
  model run twice, the teacher's first pass with grad enabled.

Peak memory is CUDA's ``max_memory_allocated`` on GPU; on CPU, the peak
resident-set growth during the step, sampled every millisecond.

Example::

    python tools/benchmarks/bench_kdiga_step.py \
        configs/kdiga_resnet4b_resnet20_cifar10.py --batch-size 128
"""
import argparse
import copy
import statistics
import threading
import time
from typing import Callable, Dict, List

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample
from mmrazor.registry import MODELS

import kdiga_mmrazor  # noqa: F401
from kdiga_mmrazor.ops import sdpa_math_kernel


class PeakMemory:
    """Peak memory growth (MB) over a ``with`` block, CPU or CUDA."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.peak_mb = 0.0

    @staticmethod
    def _rss() -> int:
        with open('/proc/self/statm') as f:
            return int(f.read().split()[1]) * 4096

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._peak = max(self._peak, self._rss())
            time.sleep(0.001)

    def __enter__(self) -> 'PeakMemory':
        if self.device.type == 'cuda':
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self._base = torch.cuda.memory_allocated()
        else:
            self._base = self._peak = self._rss()
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.device.type == 'cuda':
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated()
        else:
            self._stop.set()
            self._thread.join()
            peak = self._peak
        self.peak_mb = (peak - self._base) / 2**20


def reference_step(model, optim: torch.optim.Optimizer, x: torch.Tensor,
                   y: torch.Tensor, alpha: float, temp: float,
                   gamma: float) -> None:
    """The authors' ``kdiga`` step, on the same pixel-space models."""
    student = model.pixel_classifier('student')
    teacher = model.pixel_classifier('teacher')
    optim.zero_grad()
    basic_outputs = student(x)
    teacher_outputs = teacher(x)
    x = x.detach().requires_grad_()
    t_loss = F.cross_entropy(teacher(x), y)
    t_grad = torch.autograd.grad(t_loss, x)[0]
    with sdpa_math_kernel():
        s_loss = F.cross_entropy(student(x), y)
        s_grad = torch.autograd.grad(s_loss, x, create_graph=True)[0]
    loss = alpha * temp * temp * F.kl_div(
        F.log_softmax(basic_outputs / temp, dim=1),
        F.softmax(teacher_outputs / temp, dim=1),
        reduction='batchmean') + (1.0 - alpha) * F.cross_entropy(
            basic_outputs, y) + gamma / x.shape[0] * (s_grad - t_grad).norm(2)
    loss.backward()
    optim.step()


def build(cfg: Config, plain: bool):
    model_cfg = copy.deepcopy(cfg.model)
    if plain:
        distiller = model_cfg.distiller
        distiller.distill_losses.pop('loss_iga')
        distiller.loss_forward_mappings.pop('loss_iga')
    model_cfg.teacher_ckpt = None
    model_cfg.student_ckpt = None
    return MODELS.build(model_cfg)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--batch-size', type=int, default=128)
    parser.add_argument('--image-size', type=int, default=32)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--device', default=None)
    args = parser.parse_args()
    device = torch.device(args.device or (
        'cuda' if torch.cuda.is_available() else 'cpu'))
    cfg = Config.fromfile(args.config)
    torch.manual_seed(0)
    kdiga = build(cfg, plain=False).to(device).train()
    plain = build(cfg, plain=True).to(device).train()
    plain.load_state_dict(kdiga.state_dict())
    reference = copy.deepcopy(kdiga).train()
    num_classes = kdiga.pixel_classifier('student')(
        torch.rand(1, 3, args.image_size, args.image_size,
                   device=device)).shape[1]
    x = torch.rand(args.batch_size, 3, args.image_size, args.image_size,
                   device=device)
    y = torch.randint(0, num_classes, (args.batch_size, ), device=device)
    samples = [DataSample().set_gt_label(int(v)) for v in y]
    batch = dict(inputs=list((x * 255).round().to(torch.uint8)),
                 data_samples=samples)
    iga = cfg.model.distiller.distill_losses.loss_iga
    gamma = iga.loss_weight
    if iga.get('mode', 'per_sample') != 'paper':
        gamma = gamma * args.batch_size  # same term in the authors' form
    ref_optim = torch.optim.SGD(
        reference.architecture.parameters(), lr=0.01, momentum=0.9)

    def wrapper(model):
        return OptimWrapper(
            torch.optim.SGD(
                model.architecture.parameters(), lr=0.01, momentum=0.9))

    runs: Dict[str, Callable[[], None]] = {}
    plain_optim, kdiga_optim = wrapper(plain), wrapper(kdiga)
    runs['plain KD'] = lambda: plain.train_step(batch, plain_optim)
    runs['KDIGA'] = lambda: kdiga.train_step(batch, kdiga_optim)
    runs['reference (authors)'] = lambda: reference_step(
        reference, ref_optim, x, y, 0.5, 1.0, gamma)
    times: Dict[str, List[float]] = {name: [] for name in runs}
    memory: Dict[str, float] = {name: 0.0 for name in runs}
    for name, run in runs.items():  # warm-up
        run()
    for _ in range(args.repeats):
        for name, run in runs.items():
            with PeakMemory(device) as peak:
                start = time.perf_counter()
                run()
                if device.type == 'cuda':
                    torch.cuda.synchronize()
                times[name].append(time.perf_counter() - start)
            memory[name] = max(memory[name], peak.peak_mb)
    base = statistics.median(times['plain KD'])
    print(f'{args.config}: batch {args.batch_size}, '
          f'{args.image_size}px, {device}, {args.repeats} interleaved '
          'repeats (median)')
    print('| step | s/step | × plain KD | peak memory (MB) |')
    print('|---|---|---|---|')
    for name in runs:
        median = statistics.median(times[name])
        print(f'| {name} | {median:.3f} | {median / base:.2f} | '
              f'{memory[name]:.0f} |')


if __name__ == '__main__':
    main()
