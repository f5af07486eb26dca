"""Helper of ``test_certification_integration.py`` (not a test): a
RobustTestLoop with randomized smoothing under DDP on CPU (gloo),
``python ddp_certification.py OUT WORLD_SIZE PORT``.

Each rank writes ``OUT/rank{r}.json`` with its metrics, the record's
certifier settings and its progress lines.
"""
import json
import os
import os.path as osp
import sys

import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def worker(rank: int, world_size: int, port: int, out: str) -> None:
    torch.set_num_threads(1)
    os.environ.update(
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(port),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world_size))
    launcher = 'none'
    if world_size > 1:
        torch_dist.init_process_group(
            'gloo', rank=rank, world_size=world_size)
        launcher = 'pytorch'
    from conftest import runner_cfg  # registers the toy data and models
    from mmengine.runner import Runner

    from kdiga_mmrazor.evaluation.certification import progress

    lines = []
    line = progress.CertificationProgress.line

    def recording(self):
        lines.append(line(self))
        return lines[-1]

    progress.CertificationProgress.line = recording
    cfg = runner_cfg(
        osp.join(out, 'work'),
        dataset=dict(type='RobustToyDataset', n=13, mislabel=[11]),
        test_cfg=dict(
            type='RobustTestLoop',
            certification=dict(type='RandomizedSmoothing', sigma=3.0, n0=20,
                               n=200, radii=(0.0, 1.0), log_interval=100)),
        batch_size=2)
    cfg.update(
        launcher=launcher,
        experiment_name=f'ddp{world_size}',
        model_wrapper_cfg=dict(
            type='MMDistributedDataParallel', device_ids=None))
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    record = runner.test_loop.result_record('toy')
    with open(osp.join(out, f'rank{rank}.json'), 'w') as f:
        json.dump(
            dict(metrics=metrics, certification=record['certification'],
                 lines=lines), f)
    if world_size > 1:
        torch_dist.destroy_process_group()


if __name__ == '__main__':
    out, world_size, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    if world_size == 1:
        worker(0, 1, port, out)
    else:
        mp.spawn(worker, args=(world_size, port, out), nprocs=world_size)
