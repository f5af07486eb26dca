"""RobustEvaluator without a Runner: robust accuracy against the closed
form of a linear model, members, record, and its errors."""
import pytest
import torch
from mmpretrain.structures import DataSample
from torch import nn

from kdiga_mmrazor.evaluation import RobustEvaluator, batch_targets


def _linear(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(12, 2)).eval()


def _batch(n=16, seed=1):
    gen = torch.Generator().manual_seed(seed)
    x = 0.4 + 0.2 * torch.rand(n, 3, 2, 2, generator=gen)  # far from 0, 1
    y = torch.randint(0, 2, (n, ), generator=gen)
    return x, y


def _margins(model, x, y):
    """z_y − z_j and ‖w_y − w_j‖₁: the L∞ worst case lowers the margin by
    exactly ε‖w_y − w_j‖₁ (one corner of the ε-box)."""
    with torch.no_grad():
        z = model(x)
    w = model[1].weight
    margin = z.gather(1, y[:, None])[:, 0] - z.gather(1, 1 - y[:, None])[:, 0]
    return margin, (w[y] - w[1 - y]).abs().sum(1)


def test_robust_accuracy_equals_the_closed_form_of_a_linear_model():
    model = _linear()
    x, y = _batch()
    margin, w_l1 = _margins(model, x, y)
    correct = margin > 0
    # ε between two samples' breaking points: some survive, some do not
    ratios = (margin / w_l1)[correct].sort().values
    eps = float(ratios[len(ratios) // 2 - 1:len(ratios) // 2 + 1].mean())
    robust = correct & (margin - eps * w_l1 > 0)
    assert 0 < robust.sum() < correct.sum()

    evaluator = RobustEvaluator(
        [dict(type='PGDAttack', eps=eps, steps=10)], sanity_checks=False)
    evaluator.start(dict(student=model))
    results = evaluator.process(x[:8], y[:8], list(range(8)))
    evaluator.process(x[8:], y[8:], list(range(8, 16)))
    metrics = evaluator.compute(size=16)
    name = evaluator.attacks[0].name
    assert metrics['robust/clean_acc'] == pytest.approx(
        100 * correct.float().mean().item())
    assert metrics[f'robust/{name}/acc'] == pytest.approx(
        100 * robust.float().mean().item())
    assert [r['adv'][name] for r in results['student']] == robust[:8].tolist()
    assert evaluator.running_accuracy() == (
        f'clean {100 * correct.float().mean():.1f} | '
        f'{name} {100 * robust.float().mean():.1f}')


def test_teacher_member_gets_its_own_keys_and_record_rows():
    student, teacher = _linear(0), _linear(1)
    x, y = _batch()
    evaluator = RobustEvaluator(
        [dict(type='FGSMAttack', eps=2 / 255)], evaluate_teacher=True,
        sanity_checks=False)
    evaluator.start(dict(student=student, teacher=teacher))
    evaluator.process(x, y, list(range(16)))
    metrics = evaluator.compute(size=16)
    teacher_margin, _ = _margins(teacher, x, y)
    assert metrics['teacher/robust/clean_acc'] == pytest.approx(
        100 * (teacher_margin > 0).float().mean().item())
    record = evaluator.record(metrics, 'toy', stage='test')
    assert [row['model'] for row in record['rows']] == ['toy',
                                                        'toy (teacher)']
    assert record['attacks'][0]['type'] == 'FGSMAttack'
    assert record['stage'] == 'test'


def test_start_checks_the_members_and_process_needs_start():
    evaluator = RobustEvaluator(sanity_checks=False)
    with pytest.raises(RuntimeError, match='call start'):
        evaluator.process(*_batch(), list(range(16)))
    with pytest.raises(ValueError, match='"student"'):
        evaluator.start(dict(teacher=_linear()))


def test_repeated_attack_names_are_refused():
    pgd = dict(type='PGDAttack', eps=2 / 255, steps=5)
    with pytest.raises(ValueError, match='distinct names.*name=...'):
        RobustEvaluator([pgd, pgd])


def test_teacher_of_a_model_without_one_names_the_key():
    evaluator = RobustEvaluator(evaluate_teacher=True)
    with pytest.raises(ValueError, match='evaluate_teacher=False'):
        evaluator.members_of(_linear())


def test_batch_targets_read_labels_and_indices():
    samples = [
        DataSample(metainfo=dict(sample_idx=7)).set_gt_label(1),
        DataSample(metainfo=dict(sample_idx=3)).set_gt_label(0)
    ]
    y, idx = batch_targets(samples, torch.device('cpu'), 'owner')
    assert y.tolist() == [1, 0] and idx == [7, 3]
    with pytest.raises(ValueError, match="owner: a data sample has no "
                       'sample_idx'):
        batch_targets([DataSample().set_gt_label(1)], torch.device('cpu'),
                      'owner')
    with pytest.raises(ValueError, match='gt_label'):
        batch_targets([], torch.device('cpu'), 'owner')


@pytest.mark.parametrize('sanity_checks', [True, False])
@pytest.mark.parametrize('member', ['student', 'teacher'])
def test_a_model_with_non_finite_logits_is_not_scored(sanity_checks, member):
    broken = _linear()
    with torch.no_grad():
        broken[1].weight[0, 0] = float('nan')
    models = dict(student=_linear(), teacher=_linear(1))
    models[member] = broken
    evaluator = RobustEvaluator([dict(type='FGSMAttack', eps=2 / 255)],
                                evaluate_teacher=True,
                                sanity_checks=sanity_checks, owner='Loop')
    evaluator.start(models)
    x, y = _batch()
    with pytest.raises(ValueError, match=f"Loop: the {member}'s logits on "
                       r'the first batch are not finite \(16 of 32'):
        evaluator.process(x, y, list(range(16)))
