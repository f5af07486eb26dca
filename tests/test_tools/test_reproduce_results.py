"""tools/reproduce/reproduce_results.py: a thin wrapper; its options reach
the package (the runs themselves are tested in tests/test_reproduction)."""
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
        doc=str(tmp_path / 'docs' / 'results.md'),
        command='python tools/reproduce/reproduce_results.py --budget smoke '
        '--out-dir runs --sections pretrained gamma',
        repo=REPO, sections=['pretrained', 'gamma'])
    assert osp.samefile('.', REPO)  # it runs the tools from the repository


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
