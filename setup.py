"""kdiga_mmrazor: robustness-preserving knowledge distillation for MMRazor."""
import os.path as osp

from setuptools import find_packages, setup

here = osp.dirname(osp.abspath(__file__))
version = {}
with open(osp.join(here, 'kdiga_mmrazor', 'version.py')) as f:
    exec(f.read(), version)

setup(
    name='kdiga_mmrazor',
    version=version['__version__'],
    description='KDIGA (knowledge distillation with input gradient '
    'alignment) and adversarial evaluation for MMPretrain + MMRazor',
    long_description=open(osp.join(here, 'README.md')).read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.8',
    packages=find_packages(include=['kdiga_mmrazor', 'kdiga_mmrazor.*']),
    install_requires=[
        'torch>=2.0',
        'torchvision',
        'mmengine>=0.10,<0.11',
        # MMRazor 1.0.0 asserts mmcv<=2.1.0; on GPU replace mmcv-lite by
        # the full mmcv in the same range (see README).
        'mmcv-lite>=2.0,<=2.1',
        'mmpretrain>=1.2,<1.3',
        'mmrazor==1.0.0',
        'joblib',  # needed by mmrazor, undeclared there
        'setuptools<80',  # mmengine imports pkg_resources
        'timm',
        'safetensors',  # safetensors checkpoints (timm needs it too)
        'pyautoattack>=0.2',
        'matplotlib',
        'numpy',
        'scipy',  # Clopper-Pearson bounds of randomized smoothing
    ],
    extras_require={
        'tests': ['pytest>=7', 'ruff'],
    },
)
