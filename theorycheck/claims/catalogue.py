"""The list of claim modules, in report order (each exposes ``register(registry)``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from theorycheck.claims import foundation

__all__ = ["REGISTRARS"]

REGISTRARS: tuple[Callable[[Any], None], ...] = (foundation.register,)
