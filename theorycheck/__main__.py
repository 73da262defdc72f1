"""``python -m theorycheck`` entry point."""

from __future__ import annotations

import sys

from theorycheck.cli import main

sys.exit(main())
