"""A guard against a reference-count leak in PySide6 6.12 on CPython 3.11, which aborts the app mid-training.

Each signal emitted from Python (``SignalInstance.emit`` returns a borrowed ``True``) and each Python slot
Qt calls (its ``None`` result) drops one reference too many to ``True`` or ``None``. pyqtgraph emits and
receives signals on every ``setData``, so after some seconds of live plotting the count reaches zero and
the interpreter aborts with "Fatal Python error: none_dealloc: deallocating None" (measured: 50 plot
updates take ~8,000 references from None). CPython 3.12 made these singletons immortal, which hides the
leak; ``protect_singletons`` gives them the same protection on 3.11: a count no leak will exhaust.
Harmless without the leak: None, True and False are never freed anyway.

    from app.refcount_guard import protect_singletons
    protect_singletons()        # once, before plotting (idempotent)
"""

from __future__ import annotations

import ctypes
import sys

_PROTECTION = 1 << 40  # a million leaked references a second would take twelve days to use up
_protected = False


def protect_singletons() -> bool:
    """Raise the reference counts of None, True and False once; True when this call did it."""
    global _protected
    if _protected or sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += _PROTECTION  # ob_refcnt is the first field
    _protected = True
    return True
