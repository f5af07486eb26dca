from .kdiga_distiller import KDIGADistiller

__all__ = ['KDIGADistiller']
