"""Worked examples of bringing your own models (importable from the
repository root, e.g. by ``custom_imports``)."""
