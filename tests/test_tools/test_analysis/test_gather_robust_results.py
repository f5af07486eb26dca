"""tools/analysis/gather_robust_results.py: one table and the ε curves
from several work dirs."""
from kdiga_mmrazor.evaluation import write_results

from ...conftest import load_tool
from ...test_evaluation.conftest import robust_record


def test_gather_tool_table_and_curves(tmp_path):
    gather = load_tool('tools/analysis/gather_robust_results.py',
                       'kdiga_tools_gather')
    write_results(
        robust_record('resnet4b_cifar10', 76.5, [(2, 61.0), (8, 15.0)]),
        str(tmp_path / 'teacher'))
    write_results(
        robust_record('kdiga_student', 80.0, [(2, 40.0)]),
        str(tmp_path / 'kdiga'))
    paths = gather.main([
        str(tmp_path / 'teacher'),
        str(tmp_path / 'kdiga'), '--names', 'teacher', 'KDIGA', '--out-dir',
        str(tmp_path / 'cmp')
    ])
    with open(paths['md']) as f:
        assert f.read() == ('| model | clean | pgd20_linf_2 | pgd20_linf_8 |\n'
                            '|---|---:|---:|---:|\n'
                            '| teacher | 76.50 | 61.00 | 15.00 |\n'
                            '| KDIGA | 80.00 | 40.00 | – |\n')
    with open(paths['png'], 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
