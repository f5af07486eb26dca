"""The model and batch shared by the DDP test and its torchrun script."""
import os.path as osp
import sys

import torch
from mmrazor.registry import MODELS

import kdiga_mmrazor  # noqa: F401

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
from conftest import data_samples, kdiga_model, toy_classifier  # noqa: E402


def model():
    torch.manual_seed(0)
    built = MODELS.build(kdiga_model(toy_classifier(), toy_classifier()))
    built.init_weights()
    return built.train()


def batch():
    gen = torch.Generator().manual_seed(3)
    x = torch.rand(8, 3, 8, 8, generator=gen)
    return x, data_samples(torch.arange(8) % 3)


def student_grads(built):
    return {
        name: p.grad.clone()
        for name, p in built.architecture.named_parameters()
    }


def total(losses):
    return sum(v for k, v in losses.items() if 'loss' in k)
