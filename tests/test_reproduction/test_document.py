"""The document's rows and sentences from robust records."""
import math

from kdiga_mmrazor.reproduction.document import (
    _gamma_section,
    chance_level_note,
    gamma_answer,
    minutes_note,
    model_row,
    retention,
    smoothing_column,
    standard_error_note,
)


def record(**values):
    return dict(rows=[dict(model='m', member='student', **values),
                      dict(model='m (teacher)', member='teacher',
                           clean_acc=1.0)])


def test_each_metric_comes_from_the_test_that_measures_it():
    row = model_row('KDIGA', dict(
        curve=record(clean_acc=80.0, **{'pgd20_linf_2/acc': 50.0}),
        autoattack=record(clean_acc=82.0, **{'autoattack_linf_2/acc': 45.0}),
        diagnostics=record(clean_acc=79.0, grad_misalign_l1=0.3,
                           clean_loss=0.6, **{'pgd20_linf_2/acc': 48.0}),
        smoothing=record(clean_acc=81.0, **{
            'smooth_l2_sigma0.25/certified_acc_r0.25': 30.0,
            'smooth_l2_sigma0.25/abstain': 5.0})))
    assert row == {
        'model': 'KDIGA', 'clean_acc': 80.0, 'pgd20_linf_2/acc': 50.0,
        'autoattack_linf_2/acc': 45.0, 'autoattack_linf_8/acc': None,
        'grad_misalign_l1': 0.3, 'clean_loss': 0.6,
        'smoothing r=0.25': 30.0,
        'smoothing abstain': 5.0}


def test_smoothing_columns():
    assert smoothing_column('s/certified_acc_r0.5') == 'smoothing r=0.5'
    assert smoothing_column('s/smoothed_acc') == 'smoothing acc'
    assert smoothing_column('s/abstain') == 'smoothing abstain'


def test_gamma_answer_finds_the_smallest_gamma_or_says_none():
    teacher = {'pgd20_linf_8/acc': 20.0}  # 80%: 16
    rows = [dict(gamma=g, clean_acc=c, **{'pgd20_linf_8/acc': a})
            for g, c, a in ((0.0, 85, 1), (0.1, 80, 10), (1.0, 70, 16),
                            (3.0, 60, 19))]
    assert '**γ = 1**: 16.0% at 70.0% clean' in gamma_answer(rows, teacher)
    assert gamma_answer(rows[:3], {'pgd20_linf_8/acc': 25.0}) == (
        "No γ of the sweep keeps 80% of the teacher's pgd20_linf_8 accuracy "
        '(25.0%, so ≥ 20.0%) on this schedule; the most is 16.0% at γ = 1 '
        '(70.0% clean).')


def test_gamma_answer_skips_runs_without_the_attack():
    teacher = {'pgd20_linf_8/acc': 20.0}
    rows = [dict(gamma=0.0, clean_acc=85, **{'pgd20_linf_8/acc': None}),
            dict(gamma=0.1, clean_acc=80, **{'pgd20_linf_8/acc': 4.0}),
            dict(gamma=1.0, clean_acc=70)]
    assert gamma_answer(rows, teacher).endswith(
        'the most is 4.0% at γ = 0.1 (80.0% clean).')
    assert gamma_answer(rows[:1] + rows[2:], teacher).endswith(
        'on this schedule; no run of it measured pgd20_linf_8.')


def test_gamma_table_leaves_a_run_without_8_255_blank(tmp_path):
    rows = [dict(gamma=0.0, clean_acc=85.0,
                 **{'pgd20_linf_2/acc': 9.0, 'pgd20_linf_8/acc': 0.0}),
            dict(gamma=0.3, clean_acc=75.0, **{'pgd20_linf_2/acc': 50.0})]
    lines = _gamma_section(dict(gamma=dict(rows=rows), budget={}),
                           {'pgd20_linf_8/acc': 20.0}, str(tmp_path),
                           str(tmp_path), 'note')
    table = '\n'.join(lines).splitlines()
    assert '| γ = 0 | 85.00 | 9.00 | 0.00 | 0.00 |' in table
    assert '| γ = 0.3 | 75.00 | 50.00 | – | – |' in table


def test_retention_is_the_share_of_the_teachers_accuracy():
    teacher = {'model': 'teacher', 'pgd20_linf_2/acc': 64.0}
    rows = [teacher, {'model': 'student before (ResNet-20)',
                      'pgd20_linf_2/acc': 0.0},
            {'model': 'KD', 'pgd20_linf_2/acc': 8.0},
            {'model': 'KDIGA', 'pgd20_linf_2/acc': 48.0}]
    assert retention(rows, teacher) == (
        "Share of the teacher's pgd20_linf_2 accuracy (64.0%) kept: KD 12%, "
        'KDIGA 75%.')
    assert retention(rows, {}) == ''


def test_minutes_by_section():
    note = minutes_note(dict(wall_minutes=86.4, minutes=dict(
        pretrained=0.6, gamma=30.2)))
    assert note.startswith('86 minutes (by section: pretrained 1, gamma 30;')
    assert minutes_note(dict(wall_minutes=2.0)) == '2 minutes'


def test_a_pair_whose_students_are_at_chance_says_so():
    rows = [{'model': 'teacher (resnet4b)', 'clean_loss': 0.65},
            {'model': 'KD', 'clean_loss': 2.2918},
            {'model': 'KDIGA', 'clean_loss': 2.2917}]
    note = chance_level_note(rows)
    assert note.startswith('These students are still at chance: clean '
                           'cross-entropy KD 2.292, KDIGA 2.292, against '
                           'ln 10 = 2.303')
    # 95% of ln 10 = 2.187: one student below it has learned something
    rows[2]['clean_loss'] = 0.95 * math.log(10) - 1e-3
    assert chance_level_note(rows) == ''
    rows[2]['clean_loss'] = None  # not measured: no claim either way
    assert chance_level_note(rows) == ''
    assert chance_level_note(rows[:1]) == ''


def test_standard_error_is_the_binomial_one_at_one_half():
    note = standard_error_note([500, 200, 200, 50, 0, None])
    # 100·√(0.25/n): 2.236, 3.536, 7.071 points
    assert 'at most 2.2 on 500 images, 3.5 on 200 images, 7.1 on 50 ' \
        'images:' in note
    assert standard_error_note([None, 0]) == ''
