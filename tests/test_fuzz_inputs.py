"""Bad values through the public entry points: the attack registry (build
and call), the diagnostics options, the CIFAR-10 image folder and the
gather tool. Each must raise its error type, with a message that names the
key, the attack, the file or the field, before any compute is spent.

Tiny inputs (3×4×4 images, so the L2 diameter of the cube is √48 ≈ 6.93
and the L1 one 48): the module runs in seconds.
"""
import json
import math
import re

import numpy as np
import pytest
import torch
from torch import nn

from kdiga_mmrazor.attacks import build_attack, build_attacks
from kdiga_mmrazor.datasets import CLASSES, use_cifar10_folder
from kdiga_mmrazor.evaluation import write_results
from kdiga_mmrazor.evaluation.evaluator_options import parse_diagnostics

from .conftest import load_tool

SHAPE = (3, 4, 4)
AA = dict(attacks_to_run=['apgd-ce'], n_iter=2, verbose=False)
# one config per attack and norm; each gets the same bad values
ATTACKS = {
    'pgd_linf': dict(type='PGDAttack', steps=2),
    'pgd_l2': dict(type='PGDAttack', steps=2, norm='l2'),
    'fgsm': dict(type='FGSMAttack'),
    'autoattack_linf': dict(type='AutoAttack', **AA),
    'autoattack_l2': dict(type='AutoAttack', norm='l2', **AA),
}
GOOD_EPS = {'linf': 4 / 255, 'l2': 0.5}


def _norm(cfg):
    return cfg.get('norm', 'linf')


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(SHAPE),
                                                 3)).eval()


def _batch(dtype=torch.float32):
    gen = torch.Generator().manual_seed(0)
    x = 0.3 + 0.4 * torch.rand(4, *SHAPE, generator=gen)
    return x.to(dtype), torch.tensor([0, 1, 2, 0])


# -- attack values at build time ------------------------------------------

# (value, error, message after 'attacks[1]: <Type>: ')
BAD_EPS = [
    ('8/255', TypeError, r"eps='8/255' is a string; write 8 / 255 as a "
     r'Python expression in the config, not a string$'),
    ('0.5', TypeError, r"eps='0.5' is a string; write 0.5 as a Python"),
    (True, TypeError, r'eps must be a real number, got True \(bool\)$'),
    (None, TypeError, r'eps must be a real number, got None'),
    ([8 / 255], TypeError, r'eps must be a real number, got \[0\.0313'),
    (1j, TypeError, r'eps must be a real number, got 1j \(complex\)$'),
    (float('nan'), ValueError, r'eps must be a finite number, got nan$'),
    (np.float64('nan'), ValueError, r'eps must be a finite number'),
    (float('inf'), ValueError, r'eps must be a finite number, got inf$'),
    (-float('inf'), ValueError, r'eps must be a finite number, got -inf$'),
    (-0.1, ValueError, r'eps must be >= 0, got -0\.1$'),
    (-8, ValueError, r'eps must be >= 0, got -8$'),
]
BAD_LINF_EPS = [
    (8, r'eps=8 is not in the \[0, 1\] pixel scale of L∞ budgets; pixels '
     r'are in \[0, 1\]: write eps=8 / 255 \(= 0\.03137\), not eps=8$'),
    (255, r'eps=255 .*write eps=255 / 255'),
    (1.0001, r'eps=1\.0001 is not in the \[0, 1\] pixel scale'),
]


@pytest.mark.parametrize('attack', list(ATTACKS))
@pytest.mark.parametrize('value, error, match', BAD_EPS)
def test_bad_eps_is_refused_at_build_naming_the_entry(attack, value, error,
                                                      match):
    cfg = dict(ATTACKS[attack], eps=value)
    with pytest.raises(error, match=rf'^attacks\[1\]: {cfg["type"]}: {match}'):
        build_attacks([dict(type='FGSMAttack', eps=1 / 255), cfg],
                      'attacks')


@pytest.mark.parametrize('attack', [a for a in ATTACKS if 'l2' not in a])
@pytest.mark.parametrize('value, match', BAD_LINF_EPS)
def test_linf_eps_in_the_255_scale_is_refused_with_the_fix(
        attack, value, match):
    cfg = dict(ATTACKS[attack], eps=value)
    with pytest.raises(ValueError, match=rf'^attacks\[0\]: {cfg["type"]}: '
                       rf'{match}'):
        build_attack(cfg, 'attacks', 0)


# (key, value, error, message after 'attacks[0]: <Type>: ')
BAD_STEPS = [
    ('alpha', '2/255', TypeError, r"alpha='2/255' is a string; write 2 / 255"),
    ('alpha', False, TypeError, r'alpha must be a real number, got False'),
    ('alpha', float('nan'), ValueError, r'alpha must be a finite number'),
    ('alpha', -1e-3, ValueError, r'alpha must be >= 0, got -0\.001$'),
    ('alpha', 2, ValueError, r'alpha=2 is not in the \[0, 1\] pixel scale.*'
     r'write alpha=2 / 255'),
    ('steps', 0, ValueError, r'steps must be an int >= 1, got 0$'),
    ('steps', -5, ValueError, r'steps must be an int >= 1, got -5$'),
    ('steps', 2.5, ValueError, r'steps must be an int >= 1, got 2\.5$'),
    ('steps', True, ValueError, r'steps must be an int >= 1, got True$'),
    ('steps', '10', ValueError, r"steps must be an int >= 1, got '10'$"),
    ('restarts', 0, ValueError, r'restarts must be an int >= 1, got 0$'),
    ('seed', 0.5, ValueError, r'seed must be an int, got 0\.5$'),
]


@pytest.mark.parametrize('key, value, error, match', BAD_STEPS)
def test_bad_pgd_steps_are_refused_naming_the_key(key, value, error, match):
    cfg = dict(ATTACKS['pgd_linf'], eps=8 / 255, **{key: value})
    with pytest.raises(error, match=rf'^attacks\[0\]: PGDAttack: {match}'):
        build_attack(cfg, 'attacks', 0)


@pytest.mark.parametrize('key, value, error, match',
                         [c for c in BAD_STEPS if c[0] in ('alpha', 'seed')])
def test_bad_fgsm_steps_are_refused_naming_the_key(key, value, error, match):
    cfg = dict(type='FGSMAttack', eps=8 / 255, **{key: value})
    with pytest.raises(error, match=rf'^attacks\[0\]: FGSMAttack: {match}'):
        build_attack(cfg, 'attacks', 0)


@pytest.mark.parametrize('key', ['n_iter', 'n_restarts', 'n_queries',
                                 'n_target_classes'])
@pytest.mark.parametrize('value', [0, -1, 1.5, True, '5'])
def test_bad_autoattack_budgets_are_refused_naming_the_key(key, value):
    cfg = dict(type='AutoAttack', eps=8 / 255, **{key: value})
    got = re.escape(repr(value))
    with pytest.raises(ValueError, match=rf'^attacks\[0\]: AutoAttack: '
                       rf'{key} must be an int >= 1 or None, got {got}$'):
        build_attack(cfg, 'attacks', 0)


def test_random_garbage_eps_always_raises_a_named_error():
    # every value a config could hold that is not a finite number >= 0
    rng = np.random.default_rng(0)
    garbage = [
        str(v) for v in rng.uniform(0, 1, 5)
    ] + [{}, (), b'8', object(), np.array([0.1]), torch.tensor(0.1)] + [
        float(v) for v in -rng.uniform(1e-9, 1e9, 5)
    ] + [float(v) for v in rng.uniform(1.5, 1e6, 5)]  # > 1 under L∞
    for value in garbage:
        with pytest.raises((TypeError, ValueError)) as info:
            build_attack(dict(type='PGDAttack', eps=value), 'attacks', 2)
        assert str(info.value).startswith('attacks[2]: PGDAttack: eps'), (
            value, str(info.value))


# -- attack values and inputs at call time --------------------------------

class CountingModel(nn.Module):
    """Counts forward calls: a refused call must not run the model."""

    def __init__(self) -> None:
        super().__init__()
        self.net = _model()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.net(x)


@pytest.mark.parametrize('cfg, key, value, diameter', [
    (ATTACKS['pgd_l2'], 'eps', 128, '6.928'),
    (ATTACKS['autoattack_l2'], 'eps', 128, '6.928'),
    (dict(type='AutoAttack', norm='l1', **AA), 'eps', 255, '48'),
    (dict(ATTACKS['pgd_l2'], alpha=64), 'alpha', 64, '6.928'),
])
def test_radii_beyond_the_cube_are_refused_before_the_model_runs(
        cfg, key, value, diameter):
    cfg = dict(dict(eps=0.5), **cfg)
    cfg[key] = value
    attack = build_attack(cfg, 'attacks', 0)
    model = CountingModel()
    with pytest.raises(ValueError, match=(
            rf"^{cfg['type']} '{re.escape(attack.name)}': {key}={value} "
            rf'exceeds {diameter}, the L\d diameter of the image cube '
            rf'\[0, 1\]\^\(3×4×4\).*at most {diameter} for this input')):
        attack(model, *_batch())
    assert model.calls == 0


@pytest.mark.parametrize('attack', list(ATTACKS))
@pytest.mark.parametrize('bad', [float('nan'), float('inf'), -float('inf')])
def test_non_finite_pixels_are_refused_naming_the_attack(attack, bad):
    cfg = dict(ATTACKS[attack], eps=GOOD_EPS[_norm(ATTACKS[attack])])
    built = build_attack(cfg, 'attacks', 0)
    x, y = _batch()
    x[2, 1, 3, 0] = bad
    model = CountingModel()
    with pytest.raises(ValueError, match=(
            rf"^{cfg['type']} '{re.escape(built.name)}': inputs have 1 "
            r'non-finite pixels \(NaN or inf\) in 1 of 4 images')):
        built(model, x, y)
    assert model.calls == 0


@pytest.mark.parametrize('attack', list(ATTACKS))
def test_float64_inputs_give_float64_images_equal_to_float32(attack):
    cfg = dict(ATTACKS[attack], eps=GOOD_EPS[_norm(ATTACKS[attack])])
    built = build_attack(cfg, 'attacks', 0)
    model = _model()
    x32 = built(model, *_batch())
    x64 = built(model, *_batch(torch.float64))
    assert (x32.dtype, x64.dtype) == (torch.float32, torch.float64)
    torch.testing.assert_close(x64, x32.double(), rtol=0, atol=1e-6)


# -- the diagnostics options ----------------------------------------------

@pytest.mark.parametrize('key, value, error, match', [
    ('eps', -0.1, ValueError, r'diagnostics.eps must be >= 0, got -0\.1$'),
    ('eps', 8, ValueError, r'diagnostics.eps=8 is not in the \[0, 1\] pixel '
     r'scale.*write diagnostics.eps=8 / 255'),
    ('eps', '8/255', TypeError, r"diagnostics.eps='8/255' is a string; "
     r'write 8 / 255 as a Python expression'),
    ('eps', float('nan'), ValueError, r'diagnostics.eps must be a finite'),
    ('eps', True, TypeError, r'diagnostics.eps must be a real number'),
    ('steps', 0, ValueError, r'diagnostics.steps must be an int >= 1, got '
     r'0$'),
    ('steps', -2, ValueError, r'diagnostics.steps must be an int >= 1'),
    ('steps', 1.5, ValueError, r'diagnostics.steps must be an int >= 1, got '
     r'1\.5$'),
    ('alpha', -0.5, ValueError, r'diagnostics.alpha must be >= 0'),
    ('alpha', 3, ValueError, r'diagnostics.alpha=3 is not in the \[0, 1\]'),
])
def test_bad_diagnostics_name_the_key(key, value, error, match):
    cfg = dict(eps=8 / 255)
    cfg[key] = value
    with pytest.raises(error, match=rf'^RobustTestLoop: {match}') as info:
        parse_diagnostics(cfg, 'RobustTestLoop')
    if key == 'eps' and not isinstance(value, str) and value < 0:
        assert '/ 255' not in str(info.value)  # the hint for eps > 1


# -- the CIFAR-10 image folder --------------------------------------------

def _dataset_cfg():
    from mmengine.config import Config
    return Config(dict(test_dataloader=dict(dataset=dict(
        type='CIFAR10', data_root='data/cifar10', split='test',
        pipeline=[]))))


@pytest.mark.parametrize('layout, match', [
    ('nothing', r"^CIFAR-10 image folder '{root}' \(data_root, or "
     r'KDIGA_CIFAR10_FOLDER\) has no test/ folder: expected {root}/test/'),
    ('no classes', r'^CIFAR-10 image folder {root}/test lacks the class '
     r"folders \['airplane', .*'truck'\]: expected {root}/test/<class>/"),
    ('no images', r'^CIFAR-10 image folder {root}/test: the class folders '
     r"\['airplane', .*'truck'\] hold no images"),
])
def test_incomplete_image_folders_name_the_path(tmp_path, layout, match):
    if layout != 'nothing':
        (tmp_path / 'test').mkdir()
    if layout == 'no images':
        for name in CLASSES:
            (tmp_path / 'test' / name).mkdir()
    root = re.escape(str(tmp_path))
    with pytest.raises(FileNotFoundError, match=match.format(root=root)):
        use_cifar10_folder(_dataset_cfg(), str(tmp_path))


# -- the gather tool ------------------------------------------------------

RECORD = dict(
    model='m',
    rows=[dict(model='m', member='student', clean_acc=76.5,
               **{'pgd20_linf_2/acc': 61.0})],
    attacks=[dict(type='PGDAttack', name='pgd20_linf_2', norm='linf',
                  eps=2 / 255)])


def _without(record, *path):
    record = json.loads(json.dumps(record))
    node = record
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return record


def _with(record, value, *path):
    record = json.loads(json.dumps(record))
    node = record
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return record


@pytest.mark.parametrize('content, field', [
    ('{"rows": [}', r'not a JSON result record'),
    ('', r'not a JSON result record'),
    (json.dumps([RECORD]), r'expected a result record .*got a list$'),
    (json.dumps('m'), r'expected a result record .*got a str$'),
    (json.dumps(_without(RECORD, 'rows')), r"the record has no 'rows' "
     'field'),
    (json.dumps(_without(RECORD, 'attacks')), r"the record has no 'attacks'"
     ' field'),
    (json.dumps(_without(RECORD, 'rows', 0, 'model')),
     r"rows\[0\] has no 'model' field"),
    (json.dumps(_with(RECORD, None, 'rows', 0, 'model')),
     r'rows\[0\].model must be a string, got None'),
    (json.dumps(_with(RECORD, '61%', 'rows', 0, 'pgd20_linf_2/acc')),
     r"rows\[0\]\['pgd20_linf_2/acc'\] must be a number"),
    (json.dumps(_with(RECORD, 'x', 'rows')), r'rows must be a list, got str'),
    (json.dumps(_with(RECORD, '2/255', 'attacks', 0, 'eps')),
     r"attacks\[0\].eps must be a number, got '2/255'"),
    (json.dumps(_without(RECORD, 'attacks', 0, 'name')),
     r"attacks\[0\].name must be a string"),
])
def test_malformed_results_name_the_file_and_field(tmp_path, content,
                                                   field):
    gather = load_tool('tools/analysis/gather_robust_results.py',
                       'kdiga_tools_gather_fuzz')
    write_results(RECORD, str(tmp_path / 'good'))
    bad = tmp_path / 'bad' / 'robust_results.json'
    bad.parent.mkdir()
    bad.write_text(content)
    with pytest.raises(ValueError, match=rf'^{re.escape(str(bad))}: {field}'):
        gather.main([str(tmp_path / 'good'), str(bad), '--out-dir',
                     str(tmp_path / 'out'), '--no-plot'])


@pytest.mark.parametrize('name', ['a|b', 'a\nb', 'x | y\r\nz', '|', 'a\\|b'])
def test_model_names_never_break_the_markdown_table(tmp_path, name):
    gather = load_tool('tools/analysis/gather_robust_results.py',
                       'kdiga_tools_gather_fuzz')
    write_results(RECORD, str(tmp_path / 'good'))
    paths = gather.main([str(tmp_path / 'good'), '--names', name,
                         '--out-dir', str(tmp_path / 'out'), '--no-plot'])
    with open(paths['md']) as f:
        lines = f.read().splitlines()
    assert len(lines) == 3  # header, rule, the one row
    # cells split at unescaped pipes: model, clean, pgd20_linf_2
    cells = [re.split(r'(?<!\\)\|', line)[1:-1] for line in lines]
    assert [len(c) for c in cells] == [3, 3, 3], lines
    text = cells[2][0].strip()  # the name, back from its escaped form
    assert text.replace('\\|', '|').replace('\\\\', '\\') == ' '.join(
        name.splitlines())
