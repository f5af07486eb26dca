"""Shared check of the backbone tests: a vendored checkpoint loads."""
import torch
from mmpretrain.registry import MODELS

from kdiga_mmrazor.checkpoint import extract_state_dict


def assert_vendored_checkpoint_loads(backbone: dict, path: str) -> None:
    """``init_cfg=dict(type='Pretrained')`` loads ``path`` into the backbone
    strictly: every tensor equals the file's (``module.`` stripped)."""
    net = MODELS.build(
        dict(backbone, init_cfg=dict(type='Pretrained', checkpoint=path)))
    net.init_weights()
    weights = extract_state_dict(
        torch.load(path, map_location='cpu', weights_only=True))
    loaded = net.state_dict()
    for name, value in weights.items():
        torch.testing.assert_close(loaded[name], value, rtol=0, atol=0)
