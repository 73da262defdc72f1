"""``python -m theorycheck`` entry point."""

from __future__ import annotations

import sys

from theorycheck.cli import main

if __name__ == "__main__":  # Dask workers re-import __main__ (spawn)
    sys.exit(main())
