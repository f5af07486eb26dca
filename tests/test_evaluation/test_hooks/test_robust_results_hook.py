"""RobustResultsHook: the robust table after a robust test, from the loop's
record, with the tested checkpoint."""
import json
import os.path as osp

from mmengine.runner import Runner

from kdiga_mmrazor.evaluation.hooks import CHECKPOINT_INFO

from ..conftest import runner_cfg


def test_robust_test_loop_record_is_written_with_the_checkpoint(tmp_path):
    cfg = runner_cfg(
        tmp_path, dataset=dict(type='RobustToyDataset', mislabel=[11]),
        test_cfg=dict(type='RobustTestLoop',
                      attacks=[dict(type='ShiftAttack', eps=0.2)]))
    cfg['custom_hooks'] = [dict(type='RobustResultsHook')]
    cfg['experiment_name'] = 'results_hook'
    runner = Runner.from_cfg(cfg)
    runner.message_hub.update_info(CHECKPOINT_INFO,
                                   dict(path='x.pth', sha256='ab' * 32))
    runner.test()
    with open(osp.join(str(tmp_path), 'robust_results.json')) as f:
        record = json.load(f)
    assert record['checkpoint'] == dict(path='x.pth', sha256='ab' * 32)
    assert record['metrics']['robust/shift_linf_0.2/acc'] == 100 * 3 / 12
    assert record['stage'] == 'test'
    with open(osp.join(str(tmp_path), 'robust_results.csv')) as f:
        assert f.readline().strip() == (
            'model,member,clean_acc,shift_linf_0.2/acc')


def test_a_plain_test_writes_nothing(tmp_path):
    cfg = runner_cfg(tmp_path, test_cfg=dict(type='TestLoop'))
    cfg['custom_hooks'] = [dict(type='RobustResultsHook')]
    cfg['experiment_name'] = 'results_hook_plain'
    Runner.from_cfg(cfg).test()
    assert not osp.exists(osp.join(str(tmp_path), 'robust_results.json'))
