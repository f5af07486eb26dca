"""tools/test.py end to end: a robust test of the real ResNet-20 on a few
CIFAR-10 images prints and writes traceable tables."""
import json
import os
import os.path as osp
import subprocess
import sys

from kdiga_mmrazor.checkpoint import file_sha256

from ..conftest import REPO, RESNET20_CKPT


def test_robust_test_prints_and_writes_traceable_tables(
        tmp_path, cifar10_folder):
    work_dir = str(tmp_path / 'r20')
    env = dict(os.environ, KDIGA_CIFAR10_FOLDER=cifar10_folder)
    proc = subprocess.run([
        sys.executable, 'tools/test.py', 'configs/resnet20_cifar10.py',
        RESNET20_CKPT, '--robust', 'configs/_base_/robust_eval/'
        'cifar10_linf_8.py', '--num-samples', '10', '--attacks',
        'pgd20_linf_8', '--model-name', 'ResNet-20', '--work-dir', work_dir,
        '--cfg-options', 'test_dataloader.num_workers=0',
        'test_cfg.attacks.0.steps=2'
    ],
                          cwd=REPO,
                          env=env,
                          capture_output=True,
                          text=True)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    with open(osp.join(work_dir, 'robust_results.json')) as f:
        record = json.load(f)
    clean = record['metrics']['robust/clean_acc']
    assert '| model | clean | pgd2_linf_8 |' in log
    assert f'| ResNet-20 | {clean:.2f} |' in log
    assert record['checkpoint']['sha256'] == file_sha256(RESNET20_CKPT)
    assert record['subset']['selected'] == 10
    attack, = record['attacks']
    assert (attack['type'], attack['steps'], attack['eps']) == ('PGDAttack',
                                                                2, 8 / 255)
    assert record['versions']['pyautoattack']
    with open(osp.join(work_dir, 'robust_results.csv')) as f:
        assert f.readline().strip() == (
            'model,member,clean_acc,pgd2_linf_8/acc')
    assert osp.isfile(osp.join(work_dir, 'robust_results.md'))


def test_a_safetensors_checkpoint_tests_like_its_pth(tmp_path, cifar10_folder):
    """tools/test.py on the same weights saved as .pth and .safetensors:
    identical robust metrics."""
    import torch
    from mmengine.config import Config
    from mmpretrain.registry import MODELS
    from safetensors.torch import save_file

    import kdiga_mmrazor  # noqa: F401
    cfg = Config.fromfile(osp.join(REPO, 'configs/resnet20_cifar10.py'))
    torch.manual_seed(0)
    weights = MODELS.build(cfg.model).state_dict()
    paths = [str(tmp_path / 'w.pth'), str(tmp_path / 'w.safetensors')]
    torch.save({'state_dict': weights}, paths[0])
    save_file({k: v.contiguous() for k, v in weights.items()}, paths[1])
    env = dict(os.environ, KDIGA_CIFAR10_FOLDER=cifar10_folder)
    metrics = []
    for path in paths:
        out = str(tmp_path / (osp.basename(path) + '.json'))
        proc = subprocess.run([
            sys.executable, 'tools/test.py', 'configs/resnet20_cifar10.py',
            path, '--robust', 'configs/_base_/robust_eval/cifar10_linf_8.py',
            '--num-samples', '10', '--attacks', 'pgd20_linf_8', '--out', out,
            '--work-dir', str(tmp_path / ('work_' + osp.basename(path))),
            '--cfg-options', 'test_dataloader.num_workers=0',
            'test_cfg.attacks.0.steps=2'
        ], cwd=REPO, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
        with open(out) as f:
            metrics.append(json.load(f))
    assert metrics[0] == metrics[1]
    assert 'robust/clean_acc' in json.dumps(metrics[0])
