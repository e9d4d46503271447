"""mcalc: matrix calculus on the command line and in Python."""
__version__ = "0.1.0"


def diff(*args, **kwargs):
    from .api import diff as _diff
    return _diff(*args, **kwargs)


def shape(*args, **kwargs):
    from .api import shape as _shape
    return _shape(*args, **kwargs)


def check(*args, **kwargs):
    from .claims import check as _check
    return _check(*args, **kwargs)


def latex(*args, **kwargs):
    from .api import latex as _latex
    return _latex(*args, **kwargs)
