"""The list of claim modules, in report order (each exposes ``register(registry)``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from theorycheck.claims import (
    coef_class,
    ddim_floor,
    decomposition,
    dimension,
    foundation,
    gmm_k,
    kl_sharp,
    one_step,
    rates,
    recover,
    stability,
)

__all__ = ["REGISTRARS"]

REGISTRARS: tuple[Callable[[Any], None], ...] = (
    foundation.register,   # SCHED, COEF
    one_step.register,     # ONESTEP
    dimension.register,    # DFREE, AMBIENT
    rates.register,        # RATE-TV, RATE-LY, RATE-KL
    stability.register,    # STAB-DDIM, STAB-ROUGH, STAB-DDPM
    decomposition.register,  # DECOMP
    recover.register,      # RECOVER
    coef_class.register,   # COEF-CLASS
    ddim_floor.register,   # DDIM-FLOOR
    gmm_k.register,        # GMM-K
    kl_sharp.register,     # KL-SHARP
)
