"""The reproduction end to end with a stand-in for the tools: the
document's numbers are the runs' numbers, a rerun runs nothing, the
document can be redrawn from the saved results."""
import dataclasses
import json
import re

import pytest

from kdiga_mmrazor.reproduction.budgets import BUDGETS
from kdiga_mmrazor.reproduction.runner import (
    commit_of,
    reproduce,
    rewrite_document,
)

from ..conftest import REPO
from .conftest import clean_of, fake_time_steps

BUDGET = dataclasses.replace(BUDGETS['smoke'], gammas=(0.03, 0.3, 1.0, 3.0))


def test_document_from_every_section_and_a_rerun_runs_nothing(lab, tmp_path):
    doc = tmp_path / 'docs' / 'results.md'
    out = tmp_path / 'runs'
    results = reproduce(BUDGET, str(out), str(doc), 'python reproduce',
                        repo=REPO, run=lab, time_steps=fake_time_steps)
    text = doc.read_text()
    assert text.startswith('# Results')
    assert '`python reproduce` at commit' in text
    # KDIGA's row of the pre-trained pair: clean(0.1), timing 0.6 / 0.25
    kdiga = [line for line in text.splitlines()
             if line.startswith('| KDIGA |')][0]
    assert f'| {clean_of(0.1):.2f} |' in kdiga and kdiga.endswith(
        '| 0.60 | 2.40 |')
    # the 8/255 answer: 20·(1 − e^(−γ)) ≥ 0.8·18.8 first at γ = 3 of the
    # sweep, at clean(3)
    assert (f'**γ = 3**: {20 * (1 - 2.718281828459045**-3):.1f}% at '
            f'{clean_of(3):.1f}% clean') in text
    assert 'within the promised 5' in text
    assert 'One binomial standard error' in text
    assert 'the ViT for 2 (its warm-up and cosine schedule fitted into ' \
        'them)' in text
    assert '| smoothing r=0 | smoothing r=0.25 |' in text
    assert 'baselines (ARD, RSLAD' not in text  # the budget trains ARD
    assert '| ARD |' in text
    for figure in ('robust_acc_vs_eps_pretrained.png', 'gamma_tradeoff.png',
                   'diagnostics.png', 'robust_acc_vs_eps_vit.png'):
        assert f'](results/{figure})' in text
        assert (tmp_path / 'docs' / 'results' / figure).stat().st_size > 0
    assert set(results['minutes']) == {'pretrained', 'cnn', 'vit', 'gamma',
                                       'calibration'}
    saved = json.loads((out / 'results.json').read_text())
    assert saved['budget']['gammas'] == [0.03, 0.3, 1.0, 3.0]

    n = len(lab.commands)
    reproduce(BUDGET, str(out), str(doc), 'python reproduce', repo=REPO,
              run=lab, time_steps=fake_time_steps)
    assert len(lab.commands) == n
    first = text
    rewrite_document(str(out), str(doc))
    assert re.sub(r'\d+ minutes[^)]*\)', '', doc.read_text()) == re.sub(
        r'\d+ minutes[^)]*\)', '', first)


def test_sections_are_checked_before_anything_runs(lab, tmp_path):
    with pytest.raises(ValueError, match=r"unknown \['results'\]"):
        reproduce(BUDGET, str(tmp_path), str(tmp_path / 'r.md'), 'c',
                  sections=('pretrained', 'results'), run=lab)
    with pytest.raises(ValueError, match='gamma and calibration need '
                       'pretrained'):
        reproduce(BUDGET, str(tmp_path), str(tmp_path / 'r.md'), 'c',
                  sections=('gamma', ), run=lab)
    assert lab.commands == []


def test_commit_names_the_checkout():
    commit = commit_of(REPO)
    assert re.fullmatch(r'[0-9a-f]{7,}(\+changes)?', commit)
    assert commit_of('/') == 'unknown'


def test_a_budget_without_baselines_says_where_they_are(lab, tmp_path):
    budget = dataclasses.replace(BUDGET, baselines=(), aa_samples=4,
                                 aa_pairs=('pretrained', ))
    doc = tmp_path / 'results.md'
    reproduce(budget, str(tmp_path / 'runs'), str(doc), 'python reproduce',
              repo=REPO, sections=('pretrained', 'cnn'), run=lab,
              time_steps=fake_time_steps)
    text = doc.read_text()
    assert '| ARD |' not in text
    assert 'baselines (ARD, RSLAD, IAD, AdaAD, IGDM, KDIGA + ARD) are not '\
        'in this budget' in text
    assert 'tools/benchmarks/compare_methods.py' in text
    assert 'AutoAttack tests the models of the `pretrained` pair only.' \
        in text
