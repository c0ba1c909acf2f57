"""The packaged app's entry point: the ``layerlab`` command, as ``python -m app`` runs it.

``freeze_support()`` comes first: in a frozen app a child process started by ``multiprocessing`` (spawn,
as on Windows and macOS) runs this program again, and it must then do the child's work, not open a window.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from app.cli import main

    sys.exit(main())
