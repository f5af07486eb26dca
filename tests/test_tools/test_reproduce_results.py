"""tools/reproduce/reproduce_results.py: a thin wrapper; its options reach
the package (the runs themselves are tested in tests/test_reproduction)."""
import json
import os.path as osp

import pytest

from ..conftest import REPO, load_tool


@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/reproduce/reproduce_results.py',
                     'reproduce_results')


def test_options_reach_the_reproduction(tool, monkeypatch, tmp_path):
    seen = {}

    def fake_reproduce(budget, out_dir, doc, command, repo, sections):
        seen.update(budget=budget.name, out_dir=out_dir, doc=doc,
                    command=command, repo=repo, sections=sections)
        return dict(wall_minutes=1.0)

    monkeypatch.setattr(tool, 'reproduce', fake_reproduce)
    monkeypatch.chdir(tmp_path)
    tool.main(['--budget', 'smoke', '--out-dir', 'runs', '--sections',
               'pretrained', 'gamma'])
    assert seen == dict(
        budget='smoke', out_dir=str(tmp_path / 'runs'),
        doc=str(tmp_path / 'runs' / 'results.md'),  # a subset's document
        command='python tools/reproduce/reproduce_results.py --budget smoke '
        '--out-dir runs --sections pretrained gamma',
        repo=REPO, sections=['pretrained', 'gamma'])
    assert osp.samefile('.', REPO)  # it runs the tools from the repository


@pytest.mark.parametrize('argv, doc', [
    ([], 'docs/results.md'),
    (['--sections', 'pretrained', 'gamma', 'calibration', 'cnn', 'vit'],
     'docs/results.md'),
    (['--sections', 'vit'], 'runs/results.md'),
    (['--sections', 'vit', '--doc', 'docs/results.md'], 'docs/results.md'),
])
def test_only_every_section_writes_the_full_document(tool, monkeypatch,
                                                      tmp_path, argv, doc):
    """A subset's document goes beside its runs unless --doc names one:
    `--sections vit` never replaces docs/results.md with a ViT-only one."""
    seen = []
    monkeypatch.setattr(tool, 'reproduce', lambda budget, out, doc, *a, **k:
                        seen.append(doc) or dict(wall_minutes=1.0))
    monkeypatch.chdir(tmp_path)
    tool.main(['--budget', 'smoke', '--out-dir', 'runs'] + argv)
    assert seen == [str(tmp_path / doc)]


@pytest.mark.parametrize('saved, doc', [
    (dict(pretrained={}, gamma={}, calibration={}, cnn={}, vit={}),
     'docs/results.md'),
    (dict(vit={}), 'runs/results.md'),
])
def test_document_only_writes_the_full_document_from_every_section(
        tool, monkeypatch, tmp_path, saved, doc):
    (tmp_path / 'runs').mkdir()
    (tmp_path / 'runs' / 'results.json').write_text(
        json.dumps(dict(command='c', **saved)))
    calls = []
    monkeypatch.setattr(tool, 'rewrite_document', lambda out, doc: dict(
        wall_minutes=calls.append(doc) or 2.0))
    monkeypatch.chdir(tmp_path)
    tool.main(['--out-dir', 'runs', '--document-only'])
    assert calls == [str(tmp_path / doc)]


def test_budget_help_states_every_number_of_the_budgets(tool, capsys):
    with pytest.raises(SystemExit):
        tool.parse_args(['--help'])
    text = ' '.join(capsys.readouterr().out.split())
    assert ('cpu: ResNet-20 students 391 iterations, ViT 30 iterations; '
            'PGD-20 on 500 test images (ViT 200), AutoAttack on 50 (pairs: '
            'pretrained), diagnostics on 200; smoothing on 100 images with '
            'n0 = 100, n = 500; γ sweep 3; calibration γ 0.01, 0.1, 1 on '
            '100-iteration runs; baselines: none') in text
    assert ("paper: ResNet-20 students each config's own schedule, ViT its "
            "config's own schedule;") in text
    assert 'baselines: ARD, RSLAD, IAD, AdaAD, ARD+IGDM, KDIGA+ARD' in text


def test_document_only_runs_nothing(tool, monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(tool, 'reproduce', lambda *a, **k: calls.append(a))
    monkeypatch.setattr(tool, 'rewrite_document', lambda out, doc: dict(
        wall_minutes=calls.append((out, doc)) or 2.0))
    monkeypatch.chdir(tmp_path)
    tool.main(['--out-dir', 'runs', '--doc', 'r.md', '--document-only'])
    assert calls == [(str(tmp_path / 'runs'), str(tmp_path / 'r.md'))]


def test_unknown_budget_or_section_is_refused(tool, capsys):
    for argv in (['--budget', 'huge', '--out-dir', 'x'],
                 ['--out-dir', 'x', '--sections', 'results']):
        with pytest.raises(SystemExit):
            tool.parse_args(argv)
        assert 'invalid choice' in capsys.readouterr().err


def test_a_refused_work_dir_ends_the_tool_with_its_message(tool, monkeypatch,
                                                           tmp_path):
    def refuse(*args, **kwargs):
        raise ValueError('runs/pretrained/KD holds a run with other settings')

    monkeypatch.setattr(tool, 'reproduce', refuse)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match='^reproduce_results: runs/pretrained'
                       '/KD holds a run with other settings$'):
        tool.main(['--out-dir', 'runs'])
