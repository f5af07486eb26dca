"""The tools' shared command line: defaults, order of edits, the CIFAR-10
image folder."""
import argparse
import os.path as osp

from mmengine.config import Config

from kdiga_mmrazor.datasets.cifar10_folder import CLASSES, ENV_VAR
from kdiga_mmrazor.engine import add_runner_args, prepare_config

from ..conftest import REPO

CONFIG = osp.join(REPO, 'configs', 'resnet20_cifar10.py')


def _args(*argv):
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    return add_runner_args(parser).parse_args([CONFIG, *argv])


def test_defaults_work_dir_from_config_name_and_launcher_none(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    cfg = prepare_config(Config.fromfile(CONFIG), _args())
    assert cfg.work_dir == osp.join('./work_dirs', 'resnet20_cifar10')
    assert cfg.launcher == 'none'


def test_cfg_options_win_over_the_tools_own_edits(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)

    def edit(cfg):
        cfg.test_dataloader.batch_size = 7
        cfg.work_dir_seen = cfg.work_dir
        return cfg

    cfg = prepare_config(
        Config.fromfile(CONFIG),
        _args('--work-dir', 'wd', '--cfg-options',
              'test_dataloader.batch_size=3', '--launcher', 'pytorch'),
        edit=edit)
    assert cfg.test_dataloader.batch_size == 3
    assert cfg.work_dir_seen == 'wd' and cfg.launcher == 'pytorch'


def test_the_image_folder_variable_rewrites_the_datasets(
        monkeypatch, tmp_path):
    for split in ('train', 'test'):
        for name in CLASSES:
            (tmp_path / split / name).mkdir(parents=True)
            (tmp_path / split / name / '0.jpg').touch()
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    cfg = prepare_config(Config.fromfile(CONFIG), _args())
    dataset = cfg.test_dataloader.dataset
    assert (dataset.type, dataset.data_root, dataset.data_prefix) == (
        'mmpretrain.CustomDataset', str(tmp_path), 'test')
