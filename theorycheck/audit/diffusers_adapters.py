"""Hugging Face diffusers' schedulers as sampler-protocol objects, and their audit report.

Imports ``torch`` and ``diffusers`` lazily (``pip install "theorycheck[audit]"``); nothing else in
theorycheck needs them.  Run ``python -m theorycheck.audit.diffusers_adapters --report OUT.md`` or
``nox -s audit-diffusers``.

Mapping onto the protocol (docs/theory.md §1):

* **Time grid.** diffusers' training timesteps ``i = 0..N-1`` (N = 1000) are this package's
  ``t = i + 1``; ``alphas_cumprod[i]`` is ``ᾱ_t``.  The schedulers are run on the full grid
  (1000 inference steps, one training step per step), so the step at diffusers timestep
  ``i = t-1`` maps ``Y_t`` to ``Y_{t-1}``; the final ``i = 0`` step (to the clean sample) is not
  part of the protocol.
* **ε-prediction.** The model output handed to ``step`` is ``ε = -sqrt(1-ᾱ_t) s_t(y)`` (Tweedie;
  ``1-ᾱ_t`` from :func:`theorycheck.schedules.from_alpha_bar`, without cancellation).
* **float64.** ``clip_sample=False`` (clipping the predicted x_0 is not affine: the probe reports
  it) and the schedulers' float32 tables (``alphas_cumprod``, ``sigmas``) are cast to float64
  *after* construction: the values are the library's float32 table, the arithmetic is float64.
  The precision of those float32 tables themselves is audited separately
  (:func:`table_precision`).
* **Noise.** DDIM and DPM-Solver take ``variance_noise``; DDPM and Euler-ancestral draw it with
  ``randn_tensor`` inside ``step``, which is replaced for the duration of one call (a scoped
  ``unittest.mock.patch`` of the scheduler module's ``randn_tensor``) by the protocol's noise.
* **Multistep state.** DPM-Solver and Euler-ancestral keep a step counter; it is set from ``t``
  before every call, so the adapter is a pure function of ``(y, t, score, noise)``.
  ``DPMSolverMultistepScheduler.step`` casts the sample to float32; the float64 adapter calls its
  first-order update (``convert_model_output`` + ``dpm_solver_first_order_update``, the code
  ``step`` runs when ``solver_order=1``) directly.  ``EulerAncestralDiscreteScheduler.step``
  casts too and has no such entry point: it is audited as shipped (float32 arithmetic).

Equivalences (docs/theory.md §3): DDPM ``fixed_small`` = posterior variance, ``fixed_large`` = β
variance, DDIM(η) = Song's family (η = 1 is the posterior design), first-order DPM-Solver++ =
DDIM, first-order SDE-DPM-Solver++ and Euler-ancestral = DDIM(η = 1).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
from numpy.typing import NDArray

from theorycheck._atomic import atomic_write_text
from theorycheck._progress import CountedProgress, task_reporter
from theorycheck.audit.verdict import AuditResult, audit_sampler
from theorycheck.designs import make_design
from theorycheck.errors import InvalidParameterError
from theorycheck.schedules import Schedule, from_alpha_bar, linear

__all__ = ["DiffusersSampler", "SCHEDULERS", "SchedulerSpec", "make_scheduler_sampler", "compare_with_design",
           "table_precision", "run_diffusers_audit", "main"]

@dataclass(frozen=True, kw_only=True)
class SchedulerSpec:
    """One audited configuration: the scheduler, its settings and theorycheck's equivalent.

    ``expected`` is the verdict fixed in advance: the theory's (adaptive unless the design is
    DDPM-β), except where float32 arithmetic makes the 1.1e-7 bound on ``e_coef`` unreachable
    (the probe's error bound is then about ``T·2^-24 ≈ 6e-5``): ``inconclusive``.
    """

    kind: str
    config: dict[str, Any]
    step_kwargs: dict[str, Any]
    design: str
    eta: float | None
    expected: str
    audit_kwargs: dict[str, Any] = field(default_factory=dict)
    note: str = ""


SCHEDULERS: dict[str, SchedulerSpec] = {
    "DDPMScheduler(fixed_small)": SchedulerSpec(
        kind="DDPMScheduler", config={"variance_type": "fixed_small"}, step_kwargs={},
        design="ddpm_posterior", eta=None, expected="adaptive"),
    "DDPMScheduler(fixed_large)": SchedulerSpec(
        kind="DDPMScheduler", config={"variance_type": "fixed_large"}, step_kwargs={},
        design="ddpm_beta", eta=None, expected="not_adaptive",
        note="Ho et al.'s σ² = β_t in x_{t-1} = μ + σz is σ_t² = α_t(1-α_t) in the "
             "parametrization of docs/theory.md §3, a factor α_t below the ddpm_beta design's "
             "1-α_t (σ differs by 1 - sqrt(α_t) ≤ 1 %); R_t - 1 > 0 for both"),
    "DDIMScheduler(eta=0)": SchedulerSpec(
        kind="DDIMScheduler", config={}, step_kwargs={"eta": 0.0}, design="ddim", eta=None,
        expected="adaptive"),
    "DDIMScheduler(eta=0.5)": SchedulerSpec(
        kind="DDIMScheduler", config={}, step_kwargs={"eta": 0.5}, design="ddim_eta", eta=0.5,
        expected="adaptive"),
    "DDIMScheduler(eta=1)": SchedulerSpec(
        kind="DDIMScheduler", config={}, step_kwargs={"eta": 1.0}, design="ddim_eta", eta=1.0,
        expected="adaptive"),
    "DPMSolverMultistepScheduler(dpmsolver++, order 1)": SchedulerSpec(
        kind="DPMSolverMultistepScheduler",
        config={"algorithm_type": "dpmsolver++", "solver_order": 1}, step_kwargs={},
        design="ddim", eta=None, expected="adaptive",
        note="first-order update called directly in float64 (step() casts to float32)"),
    "DPMSolverMultistepScheduler(sde-dpmsolver++, order 1)": SchedulerSpec(
        kind="DPMSolverMultistepScheduler",
        config={"algorithm_type": "sde-dpmsolver++", "solver_order": 1}, step_kwargs={},
        design="ddim_eta", eta=1.0, expected="adaptive",
        note="first-order update called directly in float64 (step() casts to float32)"),
    "EulerAncestralDiscreteScheduler (float32 step, d ≤ 1e9)": SchedulerSpec(
        kind="EulerAncestralDiscreteScheduler", config={}, step_kwargs={},
        design="ddim_eta", eta=1.0, expected="inconclusive",
        note="step() casts the sample to float32 and σ is a float32 table: audited as shipped"),
    "EulerAncestralDiscreteScheduler (float32 step, d ≤ 1e6)": SchedulerSpec(
        kind="EulerAncestralDiscreteScheduler", config={}, step_kwargs={},
        design="ddim_eta", eta=1.0, expected="adaptive",
        audit_kwargs={"max_ambient_dim": 1e6},
        note="the same, with the criterion TV_⊥ ≤ 1e-3 for d ≤ 10^6 (threshold 3.5e-6)"),
}

_COMMON = {"num_train_timesteps": 1000, "beta_start": 1e-4, "beta_end": 0.02,
           "beta_schedule": "linear", "prediction_type": "epsilon"}


def _imports() -> tuple[Any, Any]:
    try:
        import diffusers
        import torch
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise InvalidParameterError(
            f"the diffusers adapters need torch and diffusers ({exc}); install them with "
            "`pip install torch==2.13.0 diffusers` (CPU build: see noxfile.py)") from None
    return torch, diffusers


@dataclass(frozen=True, kw_only=True, eq=False)
class DiffusersSampler:
    """A diffusers scheduler behind the sampler protocol (see module docstring).

    Attributes
    ----------
    name : str
    scheduler : object
        The configured diffusers scheduler (float64 tables).
    alpha_bar : ndarray, shape (T,)
        The scheduler's ``alphas_cumprod`` (float32 values, stored as float64).
    """

    name: str
    scheduler: Any = field(repr=False)
    alpha_bar: NDArray[np.float64] = field(repr=False)
    _kind: str = field(repr=False)
    _step_kwargs: dict[str, Any] = field(repr=False)
    _sqrt_one_minus_alpha_bar: NDArray[np.float64] = field(repr=False)

    def _noise_patch(self, noise_tensor: Any) -> AbstractContextManager[Any]:
        if self._kind not in ("DDPMScheduler", "EulerAncestralDiscreteScheduler"):
            return nullcontext()
        module = sys.modules[type(self.scheduler).__module__]
        return mock.patch.object(module, "randn_tensor",
                                 lambda *args, **kwargs: noise_tensor.clone())

    def step(self, y: NDArray[np.float64], t: int, score: NDArray[np.float64],
             noise: NDArray[np.float64]) -> NDArray[np.float64]:
        """One reverse step ``t → t-1`` through the scheduler; shapes (n, d)."""
        torch, _ = _imports()
        s = self.scheduler
        T = len(self.alpha_bar)
        sample = torch.from_numpy(np.array(y, dtype=np.float64))
        eps = torch.from_numpy(-self._sqrt_one_minus_alpha_bar[t - 1]
                               * np.asarray(score, dtype=np.float64))
        z = torch.from_numpy(np.array(noise, dtype=np.float64))
        index = T - t  # position of diffusers timestep t-1 in the descending grid
        with torch.no_grad(), self._noise_patch(z):
            if self._kind == "DDPMScheduler":
                out = s.step(eps, t - 1, sample).prev_sample
            elif self._kind == "DDIMScheduler":
                kwargs = dict(self._step_kwargs)
                if kwargs.get("eta", 0.0) > 0:
                    kwargs["variance_noise"] = z
                out = s.step(eps, t - 1, sample, **kwargs).prev_sample
            elif self._kind == "DPMSolverMultistepScheduler":
                s._step_index = index
                x0 = s.convert_model_output(eps, sample=sample)
                sde = s.config.algorithm_type.startswith("sde")
                out = s.dpm_solver_first_order_update(x0, sample=sample,
                                                      noise=z if sde else None)
            else:  # EulerAncestralDiscreteScheduler: works on x_σ = y sqrt(1 + σ²)
                s._step_index = index
                sigma_from = s.sigmas[index].double()
                sigma_to = s.sigmas[index + 1].double()
                x_sigma = sample * torch.sqrt(1 + sigma_from**2)
                prev = s.step(eps, s.timesteps[index], x_sigma).prev_sample
                out = prev.double() / torch.sqrt(1 + sigma_to**2)
        return np.asarray(out.double().numpy(), dtype=np.float64)


def make_scheduler_sampler(name: str) -> DiffusersSampler:
    """Build the adapter for one entry of :data:`SCHEDULERS` (T = 1000, linear β table)."""
    if name not in SCHEDULERS:
        raise InvalidParameterError(
            f"`name` must be one of {', '.join(map(repr, SCHEDULERS))} (got {name!r})")
    torch, diffusers = _imports()
    spec = SCHEDULERS[name]
    kind, step_kwargs = spec.kind, spec.step_kwargs
    cls = getattr(diffusers, kind)
    config = dict(_COMMON, **spec.config)
    if kind in ("DDPMScheduler", "DDIMScheduler"):
        config["clip_sample"] = False
    s = cls(**config)
    if kind == "DDIMScheduler":
        s.set_timesteps(1000)
    elif kind == "DPMSolverMultistepScheduler":
        s.set_timesteps(timesteps=list(range(999, -1, -1)))
    elif kind == "EulerAncestralDiscreteScheduler":
        s.set_timesteps(1000)
        s.is_scale_input_called = True
    # float64 arithmetic on the library's float32 values.
    for attr in ("betas", "alphas", "alphas_cumprod", "final_alpha_cumprod", "one"):
        if hasattr(s, attr) and isinstance(getattr(s, attr), torch.Tensor):
            setattr(s, attr, getattr(s, attr).to(torch.float64))
    if kind == "DPMSolverMultistepScheduler":
        # set_timesteps rounds σ = sqrt((1-ᾱ)/ᾱ) to float32; recompute it in float64 from the
        # (float32-valued) ᾱ table at the same timesteps, with the same final σ = 0.
        ab = s.alphas_cumprod.numpy()
        sig = np.sqrt((1 - ab) / ab)[s.timesteps.numpy()]
        s.sigmas = torch.from_numpy(np.concatenate([sig, [0.0]]))
    alpha_bar = s.alphas_cumprod.double().numpy().copy()
    alpha_bar.setflags(write=False)
    exact = from_alpha_bar(alpha_bar)
    root = np.sqrt(np.asarray(exact.one_minus_alpha_bar))
    root.setflags(write=False)
    return DiffusersSampler(name=name, scheduler=s, alpha_bar=alpha_bar, _kind=kind,
                            _step_kwargs=step_kwargs, _sqrt_one_minus_alpha_bar=root)


@dataclass(frozen=True, kw_only=True)
class DesignComparison:
    """Probed coefficients of a scheduler against theorycheck's design on the same ᾱ table.

    ``max_rel_eta``/``max_rel_sigma``: ``max_t |probed/design - 1|`` over t = 2..T (σ: over the
    steps where the design's σ_t > 0; for deterministic designs the largest probed σ_t instead).
    """

    design: str
    max_rel_eta: float
    worst_eta_step: int
    max_rel_sigma: float
    max_abs_sigma_if_deterministic: float
    max_rel_alpha: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return dict(self.__dict__)


def compare_with_design(result: AuditResult, design_name: str, eta: float | None,
                        schedule: Schedule) -> DesignComparison:
    """Coefficient-by-coefficient comparison of a probed scheduler with a theorycheck design."""
    design = make_design(design_name, schedule, eta=eta)
    probe = result.probe
    rel_eta = np.abs(probe.eta / design.eta[1:] - 1)
    ref_sigma = design.sigma[1:]
    positive = ref_sigma > 0
    rel_sigma = float(np.max(np.abs(probe.sigma[positive] / ref_sigma[positive] - 1))) \
        if positive.any() else 0.0
    det = float(np.max(np.abs(probe.sigma[~positive]))) if (~positive).any() else 0.0
    rel_alpha = float(np.max(np.abs(probe.alpha / schedule.alpha[1:] - 1)))
    return DesignComparison(design=design.describe(), max_rel_eta=float(rel_eta.max()),
                            worst_eta_step=int(np.argmax(rel_eta)) + 2, max_rel_sigma=rel_sigma,
                            max_abs_sigma_if_deterministic=det, max_rel_alpha=rel_alpha)


def _digits(naive: NDArray[Any], exact: NDArray[np.float64]) -> NDArray[np.float64]:
    rel = np.abs(naive.astype(np.float64) - exact) / np.abs(exact)
    return np.asarray(np.clip(-np.log10(np.maximum(rel, 1e-16)), 0.0, 16.0))


def table_precision() -> dict[str, Any]:
    """Correct digits of diffusers' float32 ``alphas_cumprod`` and of ``1 - alphas_cumprod``.

    The reference is theorycheck's linear schedule (β from 1e-4 to 0.02, T = 1000) in mpmath.
    diffusers forms ``betas = linspace(...)`` in float32, ``alphas_cumprod = cumprod(1 - betas)``
    in float32 and ``beta_prod_t = 1 - alpha_prod_t`` by subtraction (in float32 tables unless
    cast).
    """
    _torch, diffusers = _imports()
    s = diffusers.DDPMScheduler(**_COMMON)
    ab32 = s.alphas_cumprod.numpy()
    exact = linear(1000)
    one_minus32 = (np.float32(1) - ab32).astype(np.float32)
    d_ab = _digits(ab32, np.asarray(exact.alpha_bar))
    d_om = _digits(one_minus32, np.asarray(exact.one_minus_alpha_bar))
    beta32 = s.betas.numpy()
    d_beta = _digits(beta32, np.asarray(exact.one_minus_alpha))
    return {
        "dtype": str(s.alphas_cumprod.dtype),
        "alpha_bar_min_digits": float(d_ab.min()), "alpha_bar_worst_t": int(np.argmin(d_ab)) + 1,
        "alpha_bar_digits_at_T": float(d_ab[-1]),
        "one_minus_alpha_bar_min_digits": float(d_om.min()),
        "one_minus_alpha_bar_worst_t": int(np.argmin(d_om)) + 1,
        "one_minus_alpha_bar_digits_at_1": float(d_om[0]),
        "beta_min_digits": float(d_beta.min()),
        "max_rel_alpha_bar_error": float(np.max(np.abs(ab32 / np.asarray(exact.alpha_bar) - 1))),
        "method": "float32 tables of diffusers.DDPMScheduler against theorycheck.schedules."
                  "linear(1000) (mpmath, 50 digits); digits = -log10(relative error)",
    }


def run_diffusers_audit(*, seed: int = 0, names: Sequence[str] | None = None,
                        progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Audit every scheduler of :data:`SCHEDULERS` and compare it with its theorycheck design.

    Returns
    -------
    dict
        ``{"results": {name: AuditResult}, "comparisons": {name: DesignComparison},
        "expected": {name: verdict}, "precision": ..., "versions": ..., "seconds": ...}``.
    """
    torch, diffusers = _imports()
    start = time.perf_counter()
    chosen = list(SCHEDULERS) if names is None else list(names)
    results: dict[str, AuditResult] = {}
    comparisons: dict[str, DesignComparison] = {}
    expected: dict[str, str] = {}
    seeds = np.random.SeedSequence(seed).spawn(len(chosen))
    if isinstance(progress, CountedProgress):
        progress.expect(len(chosen))
    for name, child in zip(chosen, seeds, strict=True):
        spec = SCHEDULERS[name]
        sampler = make_scheduler_sampler(name)
        result = audit_sampler(sampler, rng=np.random.default_rng(child), name=name,
                               **spec.audit_kwargs)
        results[name] = result
        comparisons[name] = compare_with_design(result, spec.design, spec.eta,
                                                from_alpha_bar(sampler.alpha_bar))
        expected[name] = spec.expected
        if progress is not None:
            progress(f"{name}: {result.verdict.value} ({result.seconds:.1f} s)")
    return {"results": results, "comparisons": comparisons, "expected": expected,
            "precision": table_precision(), "seed": seed,
            "versions": {"torch": torch.__version__, "diffusers": diffusers.__version__},
            "seconds": time.perf_counter() - start}


def _markdown(run: dict[str, Any]) -> str:
    from theorycheck.audit.report import audit_markdown

    v = run["versions"]
    out = ["# diffusers schedulers audited by theorycheck", "",
           f"diffusers {v['diffusers']}, torch {v['torch']} (CPU); seed {run['seed']}; "
           f"{run['seconds']:.0f} s in total. Written by `nox -s audit-diffusers` "
           "(`python -m theorycheck.audit.diffusers_adapters`).", "",
           "Every scheduler runs on diffusers' linear β table (1e-4 … 0.02, T = 1000) over the "
           "full timestep grid, with ε = -sqrt(1-ᾱ_t)·score, `clip_sample=False` and float64 "
           "arithmetic on the library's float32 tables (see `theorycheck/audit/diffusers_adapters.py` "
           "for the mapping). Verdict rule: `theorycheck/audit/verdict.py` (adaptive when the "
           "coefficients keep the orthogonal TV ≤ 1e-3 up to d = 10^9, and the black box's own "
           "chains and the exact-split TV curve agree).", "",
           "| scheduler | theorycheck design | expected | verdict | max abs(R_t − 1) | e_coef "
           "| max rel. diff. η_t | max rel. diff. σ_t |", "|---|---|---|---|---|---|---|---|"]
    for name, result in run["results"].items():
        comp = run["comparisons"][name]
        cond = result.condition
        sigma = (f"{comp.max_rel_sigma:.1e}" if comp.max_abs_sigma_if_deterministic == 0.0
                 else f"{comp.max_rel_sigma:.1e} (σ ≤ {comp.max_abs_sigma_if_deterministic:.0e})")
        mark = "" if result.verdict.value == run["expected"][name] else " ⚠"
        r1 = "—" if cond is None else f"{cond.max_abs.value:.1e}"
        ec = "—" if cond is None else (f"{cond.coefficient_error.value:.1e} ± "
                                       f"{cond.coefficient_error.stderr:.0e}")
        out.append(f"| `{name}` | {comp.design} | {run['expected'][name]} | "
                   f"**{result.verdict.value}**{mark} | {r1} | {ec} | {comp.max_rel_eta:.1e} | "
                   f"{sigma} |")
    notes = [f"- `{n}`: {SCHEDULERS[n].note}." for n in run["results"] if SCHEDULERS[n].note]
    if notes:
        out += ["", "Notes:", "", *notes]
    p = run["precision"]
    out += ["", "## Precision of diffusers' float32 ᾱ table", "",
            f"- `alphas_cumprod` is {p['dtype']}: at least {p['alpha_bar_min_digits']:.1f} correct "
            f"digits (worst t = {p['alpha_bar_worst_t']}; {p['alpha_bar_digits_at_T']:.1f} at "
            f"t = T; max relative error {p['max_rel_alpha_bar_error']:.1e}).",
            f"- `1 - alphas_cumprod` formed in float32: {p['one_minus_alpha_bar_min_digits']:.1f} "
            f"correct digits at worst (t = {p['one_minus_alpha_bar_worst_t']}; "
            f"{p['one_minus_alpha_bar_digits_at_1']:.1f} at t = 1).",
            f"- `betas` (float32 linspace): {p['beta_min_digits']:.1f} digits at worst.",
            f"- {p['method']}.",
            "- The audits above are exact relative to the library's own (float32-valued) table: "
            "the sampler, the scores and the reference process all use it, so table rounding "
            "does not enter the verdicts; float32 *arithmetic* does (Euler-ancestral row).", ""]
    for result in run["results"].values():
        out.append(audit_markdown(result, heading_level=2))
    return "\n".join(out) + "\n"


def _json(run: dict[str, Any]) -> dict[str, Any]:
    return {"results": {k: r.to_dict() for k, r in run["results"].items()},
            "comparisons": {k: c.to_dict() for k, c in run["comparisons"].items()},
            "expected": run["expected"], "precision": run["precision"],
            "versions": run["versions"], "seed": run["seed"], "seconds": run["seconds"]}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m theorycheck.audit.diffusers_adapters [--report OUT.md] [--json OUT]``.

    Exit 0 when every scheduler gets the verdict the theory predicts for its design, 1 otherwise.
    """
    parser = argparse.ArgumentParser(prog="theorycheck.audit.diffusers_adapters")
    parser.add_argument("--report", default="reports/diffusers-audit.md")
    parser.add_argument("--json", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="*", default=None, help="scheduler names")
    args = parser.parse_args(argv)
    with task_reporter("diffusers audit") as report:
        run = run_diffusers_audit(seed=args.seed, names=args.only, progress=report)
    path = Path(args.report)
    atomic_write_text(path, _markdown(run))
    print(f"report written to {path} ({run['seconds']:.0f} s)")
    if args.json:
        atomic_write_text(args.json, json.dumps(_json(run), indent=2) + "\n")
    mismatched = [n for n, r in run["results"].items() if r.verdict.value != run["expected"][n]]
    for name in mismatched:
        print(f"verdict differs from the theory's prediction: {name}")
    return 0 if not mismatched else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

