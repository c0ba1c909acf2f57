"""LayerLab's deep-learning engine: NumPy/CuPy only, no Qt, usable on its own.

    import engine
    net = engine.build(spec, seed=0)
"""

from engine import backend
from engine.parameter import Parameter

__all__ = ["backend", "Parameter"]
