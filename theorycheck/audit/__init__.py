"""Audit any sampler: probe its coefficients, check the one-step condition, give a verdict.

``audit_sampler(sampler, rng=...)`` treats any object following the sampler protocol
(:mod:`theorycheck.samplers`) as a black box; ``theorycheck audit TARGET`` is the same from the
command line.  Modules: :mod:`~theorycheck.audit.loader` (TARGET strings),
:mod:`~theorycheck.audit.probe` (coefficient recovery), :mod:`~theorycheck.audit.condition`
(``R_t - 1`` and the predicted growth with d), :mod:`~theorycheck.audit.checks` (brute-force,
DFREE- and RATE-style checks), :mod:`~theorycheck.audit.verdict` (the rule and the record),
:mod:`~theorycheck.audit.report` (markdown), :mod:`~theorycheck.audit.examples` and
:mod:`~theorycheck.audit.diffusers_adapters` (lazy: needs torch and diffusers).

Samplers as shipped (``theorycheck audit diffusers:CLASS``): :mod:`~theorycheck.audit.wholechain`
(the whole-chain protocol and exact impulse responses), :mod:`~theorycheck.audit.scheduler_loop`
(a scheduler's own loop with an exact model, in ideal/table/shipped modes),
:mod:`~theorycheck.audit.diffusers_build` (``diffusers:CLASS`` by name),
:mod:`~theorycheck.audit.causes` (per-cause d* and verdict), :mod:`~theorycheck.audit.order`
(exact k = 1 density, measured order), :mod:`~theorycheck.audit.diffusers_table` and
:mod:`~theorycheck.audit.kdiffusion_adapters` (reports; lazy: need torch).
"""

from __future__ import annotations

import sys

from theorycheck.api import AuditPackage
from theorycheck.audit.loader import load_sampler, resolve_target
from theorycheck.audit.probe import ProbeResult, probe_coefficients
from theorycheck.audit.verdict import AuditResult, AuditVerdict, audit_sampler

__all__ = ["audit_sampler", "AuditResult", "AuditVerdict", "ProbeResult", "probe_coefficients",
           "load_sampler", "resolve_target"]

# ``tc.audit(sampler)``: the package is callable (see :class:`theorycheck.api.AuditPackage`).
sys.modules[__name__].__class__ = AuditPackage
