"""The package version: the installed distribution's, PEP 440."""
import importlib.metadata

from packaging.version import Version

import kdiga_mmrazor


def test_version_is_the_installed_distribution_version():
    assert kdiga_mmrazor.__version__ == importlib.metadata.version(
        'kdiga_mmrazor')


def test_version_is_pep_440():
    # Version() raises InvalidVersion otherwise; str() round-trips only a
    # normalised version
    assert str(Version(kdiga_mmrazor.__version__)) == \
        kdiga_mmrazor.__version__
