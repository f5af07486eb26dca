"""Checks on how a config file merges with its bases.

MMEngine merges a config's dicts into its bases' key by key unless the
dict says ``_delete_=True``. For a model that is *replaced* this is
silent and wrong: a config that swaps the shipped resnet4b teacher for its
own network keeps the keys of resnet4b it does not restate (its
``data_preprocessor`` mean/std, backbone arguments, ``init_cfg``).
:func:`refusing_partial_model_replacement` makes such a merge an error
that names the keys and the fix.
"""
from contextlib import contextmanager
from typing import Iterator, List, Optional

from mmengine.config import Config

MEMBERS = ('teacher', 'architecture')


def _type_of(cfg) -> Optional[str]:
    """The ``type`` without a scope (``'mmpretrain.ResNet'`` → ``'ResNet'``).
    """
    kind = cfg.get('type') if isinstance(cfg, dict) else None
    return kind.split('.')[-1] if isinstance(kind, str) else kind


def leaked_keys(own: dict, base: dict) -> List[str]:
    """Keys of ``base`` that a merge would keep in ``own`` although
    ``own`` has another ``type`` (of the model or of its backbone) and no
    ``_delete_``: dotted, e.g. ``['data_preprocessor',
    'backbone.num_classes']``. Empty when ``own`` keeps the types (it
    then edits the base's model, which merging is for)."""
    if not (isinstance(own, dict) and isinstance(base, dict)) or own.get(
            '_delete_'):
        return []
    own_backbone, base_backbone = own.get('backbone'), base.get('backbone')
    model_replaced = (_type_of(own) is not None
                      and _type_of(own) != _type_of(base))
    backbone_replaced = (_type_of(own_backbone) is not None
                         and _type_of(own_backbone) != _type_of(base_backbone))
    if not (model_replaced or backbone_replaced):
        return []
    leaked = [k for k in base if k not in own and k not in ('_scope_', 'type')]
    if isinstance(own_backbone, dict) and isinstance(
            base_backbone, dict) and not own_backbone.get('_delete_'):
        leaked += [
            f'backbone.{k}' for k in base_backbone
            if k not in own_backbone and k != '_scope_'
        ]
    return leaked


def check_model_replacement(own: dict, base: dict) -> None:
    """Refuse a config dict ``own`` whose ``model.teacher`` (or
    ``model.architecture``) replaces its base's with another type but
    would keep some of the base's keys.

    Raises:
        ValueError: names the member, the types and the keys, and the fix.
    """
    own_model, base_model = own.get('model'), base.get('model')
    if not (isinstance(own_model, dict) and isinstance(base_model, dict)
            ) or own_model.get('_delete_'):
        return
    for member in MEMBERS:
        leaked = leaked_keys(own_model.get(member), base_model.get(member))
        if leaked:
            new = own_model[member]
            old = base_model[member]
            raise ValueError(
                f'model.{member} replaces the base config\'s '
                f'{_type_of(old.get("backbone")) or _type_of(old)} with '
                f'{_type_of(new.get("backbone")) or _type_of(new)}, but '
                'MMEngine would merge the two and keep the base\'s '
                f'{leaked} in it. Write model = dict({member}=dict('
                '_delete_=True, ...)) to replace it whole, or state those '
                'keys yourself')


@contextmanager
def refusing_partial_model_replacement() -> Iterator[None]:
    """While active, every merge of a config file into its bases (in
    ``Config.fromfile``) runs :func:`check_model_replacement` first."""
    original = Config.__dict__['_merge_a_into_b']
    merge = original.__func__

    def checked(a: dict, b: dict, allow_list_keys: bool = False) -> dict:
        check_model_replacement(a, b)
        return merge(a, b, allow_list_keys)

    Config._merge_a_into_b = staticmethod(checked)
    try:
        yield
    finally:
        Config._merge_a_into_b = original
