from .kdiga_distill import KDIGADistill

__all__ = ['KDIGADistill']
