"""The table of every applicable diffusers scheduler: per-cause verdicts, d* and measured orders.

``python -m theorycheck.audit.diffusers_table --report reports/diffusers-audit.md`` (or
``nox -s audit-diffusers``) audits each configuration of :data:`CONFIGS` as shipped (float32
sample and model output) and in float64 (:func:`~theorycheck.audit.causes.cause_breakdown`),
measures the order of the deterministic ones on the smooth and rough k = 1 targets
(:func:`~theorycheck.audit.order.measure_order`, ideal mode: exact tables and float64), checks
the issue's LMS/PNDM/DEIS observations (:func:`observations`), and writes the markdown report,
a JSON file and the log-log figure of TV against N.  Needs torch and diffusers.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from theorycheck._atomic import atomic_path, atomic_write_text
from theorycheck._progress import CountedProgress, task_reporter
from theorycheck.audit.causes import CauseBreakdown, cause_breakdown
from theorycheck.audit.diffusers_build import NOT_APPLICABLE, _imports, make_diffusers_loop
from theorycheck.audit.order import ORDER_STEPS, ROUGH, SMOOTH, OrderResult, measure_order
from theorycheck.audit.wholechain import impulse_response

__all__ = ["CONFIGS", "run_table", "observations", "table_markdown", "main"]

#: (label, class, config, step kwargs, N).  Config: diffusers' defaults (linear β 1e-4 … 0.02,
#: T = 1000, ε-prediction) unless stated.
CONFIGS: tuple[tuple[str, str, dict[str, Any], dict[str, Any], int], ...] = (
    ("DDPM", "DDPMScheduler", {}, {}, 50),
    ("DDPM fixed_large", "DDPMScheduler", {"variance_type": "fixed_large"}, {}, 50),
    ("DDIM η=0", "DDIMScheduler", {}, {"eta": 0.0}, 50),
    ("DDIM η=1", "DDIMScheduler", {}, {"eta": 1.0}, 50),
    ("DDIM η=0, set_alpha_to_one=False, N=1000", "DDIMScheduler",
     {"set_alpha_to_one": False}, {"eta": 0.0}, 1000),
    ("DDIMParallel η=0", "DDIMParallelScheduler", {}, {"eta": 0.0}, 50),
    ("DDPMParallel", "DDPMParallelScheduler", {}, {}, 50),
    ("PNDM", "PNDMScheduler", {}, {}, 50),
    ("DEIS 2", "DEISMultistepScheduler", {}, {}, 50),
    ("DPM-Solver++ 2M", "DPMSolverMultistepScheduler",
     {"algorithm_type": "dpmsolver++", "solver_order": 2}, {}, 50),
    ("DPM-Solver++ 3M", "DPMSolverMultistepScheduler",
     {"algorithm_type": "dpmsolver++", "solver_order": 3}, {}, 50),
    ("DPM-Solver++ 2M Karras", "DPMSolverMultistepScheduler",
     {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": True}, {}, 50),
    ("SDE-DPM-Solver++ 2M", "DPMSolverMultistepScheduler",
     {"algorithm_type": "sde-dpmsolver++", "solver_order": 2}, {}, 50),
    ("DPM-Solver singlestep 2", "DPMSolverSinglestepScheduler", {"solver_order": 2}, {}, 50),
    ("UniPC 2 (bh2)", "UniPCMultistepScheduler", {}, {}, 50),
    ("SA-Solver", "SASolverScheduler", {}, {}, 50),
    ("Euler", "EulerDiscreteScheduler", {}, {}, 50),
    ("Euler ancestral", "EulerAncestralDiscreteScheduler", {}, {}, 50),
    ("Heun", "HeunDiscreteScheduler", {}, {}, 50),
    ("LMS (order 4)", "LMSDiscreteScheduler", {}, {}, 50),
    ("KDPM2", "KDPM2DiscreteScheduler", {}, {}, 50),
    ("KDPM2 ancestral", "KDPM2AncestralDiscreteScheduler", {}, {}, 50),
)
DTYPES_AUDITED = ("float32", "float64")


def _loop(cls: str, config: dict[str, Any], kwargs: dict[str, Any], steps: int, dtype: str
          ) -> Any:
    return make_diffusers_loop(cls, config, steps=steps, dtype=dtype, step_kwargs=kwargs)


def _ideal_loop(cls: str, config: dict[str, Any], kwargs: dict[str, Any], steps: int) -> Any:
    return _loop(cls, config, kwargs, steps, "float64").with_mode("ideal")


def observations(seed: int = 0) -> dict[str, Any]:
    """Evidence on the issue's LMS, PNDM and DEIS observations (N = 50, float32, linear β).

    * LMS: the output variance off the data with the exact model at the scheduler's own
      fractional timesteps, against the same loop whose model takes ``ᾱ`` at ``int(t)`` (the
      fractional ``linspace`` timesteps truncated): the observed 7.5e-8 comes from the latter.
    * PNDM, DEIS: output variance against ``1 - ᾱ_0`` (the noise level of training step 0).
    """
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {}
    lms = _loop("LMSDiscreteScheduler", {}, {}, 50, "float32")
    exact = impulse_response(lms, rng=rng).variance()
    table = lms.alpha_bar_table
    truncated = dataclasses.replace(lms, alpha_bar_at=lambda t: float(table[int(t)]))
    trunc = impulse_response(truncated, rng=rng).variance()
    ideal = impulse_response(lms.with_mode("ideal"), rng=rng).variance()
    out["LMSDiscreteScheduler"] = {
        "variance_exact_model_float32": exact, "variance_exact_model_ideal": ideal,
        "variance_model_at_int_t_float32": trunc,
        "note": "impulse responses of the whole 50-step loop; the model's ᾱ at the scheduler's "
                "fractional timestep (linear σ interpolation) vs truncated to int(t)"}
    for cls in ("PNDMScheduler", "DEISMultistepScheduler"):
        loop = _loop(cls, {}, {}, 50, "float32")
        end = loop.end_point()
        r = end.exact_start_variance / end.start_variance
        v = {mode: impulse_response(loop.with_mode(mode), rng=rng) for mode in
             ("ideal", "shipped")}
        out[cls] = {"end_variance_target": end.end_variance, "how": end.how,
                    "variance_ideal_exact_start": v["ideal"].variance(r),
                    "variance_shipped_from_N01": v["shipped"].variance(1.0),
                    "relative_ideal": v["ideal"].variance(r) / end.end_variance - 1,
                    "relative_shipped": v["shipped"].variance(1.0) / end.end_variance - 1}
    return out


def run_table(*, seed: int = 0, labels: Sequence[str] | None = None, orders: bool = True,
              progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Audit :data:`CONFIGS` (or the chosen labels); see module docstring."""
    torch, diffusers = _imports()
    start = time.perf_counter()
    chosen = [c for c in CONFIGS if labels is None or c[0] in labels]
    seeds = np.random.SeedSequence(seed).spawn(len(chosen))
    if isinstance(progress, CountedProgress):
        progress.expect(len(chosen))
    rows: dict[str, dict[str, Any]] = {}
    for (label, cls, config, kwargs, steps), child in zip(chosen, seeds, strict=True):
        row_start = time.perf_counter()
        rng = np.random.default_rng(child)
        audits: dict[str, CauseBreakdown] = {}
        for dtype in DTYPES_AUDITED:
            audits[dtype] = cause_breakdown(_loop(cls, config, kwargs, steps, dtype), rng=rng)
        deterministic = all(r.num_draws == 0 for a in audits.values()
                            for r in a.responses.values()) and bool(audits["float64"].responses)
        order: dict[str, OrderResult] = {}
        if orders and deterministic:
            make = functools.partial(_ideal_loop, cls, config, kwargs)
            for factor in (SMOOTH, ROUGH):
                order[factor.name] = measure_order(make, factor, name=label)
        rows[label] = {"class": cls, "config": config, "step_kwargs": kwargs, "steps": steps,
                       "audits": audits, "orders": order}
        if progress is not None:
            progress(f"{label}: " + ", ".join(f"{d} {a.verdict} ({a.dominating})"
                                              for d, a in audits.items())
                     + "".join(f"; order {k} {o.order.value:.2f}" if o.order else ""
                               for k, o in order.items())
                     + f" [{time.perf_counter() - row_start:.0f} s]")
    obs = observations(seed)
    return {"rows": rows, "observations": obs, "seed": seed,
            "not_applicable": dict(NOT_APPLICABLE),
            "versions": {"torch": torch.__version__, "diffusers": diffusers.__version__},
            "seconds": time.perf_counter() - start}


def _d(d: float) -> str:
    return "never" if not math.isfinite(d) else f"{d:.2g}"


def _order_text(o: OrderResult | None) -> str:
    if o is None:
        return "—"
    est = o.order
    text = "—" if est is None else f"{est.value:.2f} ± {est.stderr:.2f}"
    if o.note:
        text += " (N " + ", ".join(n.split(":")[0][2:] for n in o.note.split("; ")) + " folds)"
    return text


def table_markdown(run: dict[str, Any], figure: str | None = None) -> str:
    """The report (pure formatting)."""
    v = run["versions"]
    out = ["# diffusers schedulers as shipped: per-cause audit", "",
           f"diffusers {v['diffusers']}, torch {v['torch']} (CPU); seed {run['seed']}; "
           f"{run['seconds']:.0f} s in total. Written by `nox -s audit-diffusers` "
           "(`python -m theorycheck.audit.diffusers_table`).", "",
           "Each row runs the scheduler's own `set_timesteps` / `scale_model_input` / `step` loop "
           "(diffusers' default config: linear β 1e-4 … 0.02, T = 1000, ε-prediction, "
           "`clip_sample=False`) with the exact model output of a target on a line, and gets the "
           "output variance off the data exactly from impulse responses of the whole chain "
           "(`theorycheck/audit/wholechain.py`). Causes (`theorycheck/audit/causes.py`): "
           "**design** = exact float64 tables and arithmetic from the exact start; **table** = "
           "the library's float32 ᾱ/σ/timestep tables; **arith** = float32 (or float64) sample "
           "arithmetic; **start-up** = `z_T ~ N(0, 1)` against the forward law at the first "
           "timestep (set by the schedule and the spacing). Comparison: *point mass* when the "
           "last step denoises (value = output variance off the data, size W2_⊥ = sqrt((d-1) v)), "
           "*smoothed* when the chain stops at a noise level (value = relative variance error "
           "against the target smoothed there, size = exact chi-square TV_⊥). d*(1e-3) = the "
           "ambient dimension at which the size reaches 1e-3; verdict at d_max = 1e9.", "",
           "Caveat on **table**: the exact model here follows the exact β table. A network "
           "trained with the library's own float32 `add_noise` learned the float32 noise levels, "
           "for which this cause vanishes; it measures the sampler against the mathematical "
           "schedule.", "",
           "| scheduler | N | dtype | comparison | verdict | dominating | verdict w/o table | "
           "total | d*(total) | d* design | d* table | d* arith | d* start-up | order smooth | "
           "order rough |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for label, row in run["rows"].items():
        for dtype, a in row["audits"].items():
            if a.total is None:
                out.append(f"| {label} | {row['steps']} | {dtype} | {a.comparison} | "
                           f"{a.verdict} | — | — | {a.reasons[0]} | | | | | | | |")
                continue
            ds = {c.name: c.d_star for c in a.causes}
            orders = row["orders"] if dtype == "float64" else {}
            out.append(
                f"| {label} | {row['steps']} | {dtype} | {a.comparison.replace('_', ' ')} | "
                f"**{a.verdict}** | {a.dominating} | {a.verdict_without_table} | "
                f"{a.total.contribution.value:.2e} | "
                f"{_d(a.total.d_star)} | {_d(ds['coefficient design'])} | "
                f"{_d(ds['table precision'])} | {_d(ds['arithmetic'])} | "
                f"{_d(ds['start-up floor'])} | {_order_text(orders.get('smooth'))} | "
                f"{_order_text(orders.get('rough'))} |")
    out += ["", "## Measured order on the subspace (deterministic solvers, exact tables, float64)",
            "", "TV between the exact k = 1 output law (change of variables through the whole "
            "chain, `theorycheck/audit/order.py`), started from the exact forward law at the "
            "first timestep (so the start-up floor, which a deterministic bijection keeps for "
            "ever, is left out and the solver's own error remains), and the target at the "
            "chain's end point, for "
            f"N in {ORDER_STEPS}; smooth target: weights (0.3, 0.7), means (−1, 1), variances "
            "(0.25, 0.16); rough: variances (1e-3, 2e-3). Order = −slope of the weighted log-log "
            "fit ± its standard error (Birge-scaled when the points scatter: the laws are not "
            "pure powers). 'folds' lists N where the map z_T → y_out is not monotone (the exact "
            "output density has folds; change of variables with one branch does not apply) — "
            "itself a finding on the rough target; 'unresolved': the mass check of the "
            "change of variables failed (a near-fold the grid does not resolve). An order needs "
            "3 resolved points. By the exact split the ambient dimension "
            "enters only through the variance off the data (table above), so these TVs hold for "
            "every d where that part is exact.", "",
            "Reading the rough rows: when the last step denoises from the smallest grid level "
            "σ_min, the output there is the posterior mean E[X_0 | X_σmin], not a sample; against "
            "components of standard deviation 0.03–0.045 this shrinks each one by a fixed factor, "
            "a TV floor set by σ_min (not by N): the rough TVs of Heun and KDPM2 (diffusers' "
            "default β 0.00085 … 0.012, σ_min ≈ 0.03) stop falling or rise, and the fitted "
            "slope then measures the floor, not an order.", "",
            _dpm_answer(run), "",
            "The k-diffusion samplers are in [kdiffusion-audit.md](kdiffusion-audit.md) "
            "(`nox -s audit-kdiffusion`, its own virtualenv).", ""]
    if figure:
        out += [f"![TV against N per solver]({figure})", ""]
    out += ["| scheduler | target | " + " | ".join(f"TV at N={n}" for n in ORDER_STEPS)
            + " | order |", "|---|---|" + "---|" * len(ORDER_STEPS) + "---|"]
    for label, row in run["rows"].items():
        for name, o in row["orders"].items():
            tv = dict(zip(o.steps, o.tv, strict=True))
            out.append(f"| {label} | {name} | " + " | ".join(
                ("folds" if n not in tv else "unresolved" if tv[n].stderr >= 0.5 * tv[n].value
                 else f"{tv[n].value:.3e} ± {tv[n].stderr:.0e}") for n in ORDER_STEPS)
                + f" | {_order_text(o)} |")
    obs = run["observations"]
    lms, pndm, deis = (obs[k] for k in ("LMSDiscreteScheduler", "PNDMScheduler",
                                        "DEISMultistepScheduler"))
    out += ["", "## The issue's observations, checked", "",
            f"- **LMS 7.5e-8: refuted as a defect of LMS.** With the exact model at the scheduler's "
            f"own (fractional, `linspace`) timesteps the output variance off the data is "
            f"{lms['variance_exact_model_float32']:.2e} in float32 and "
            f"{lms['variance_exact_model_ideal']:.1e} with exact tables. Taking the model's ᾱ at "
            f"`int(t)` instead reproduces the observation: {lms['variance_model_at_int_t_float32']:.2e}. "
            "The 7.5e-8 is a model/timestep mismatch of the measurement, not scipy.integrate.quad's "
            "tolerance: on data-free coordinates x_σ = σ·c, so the σ-derivative that LMS integrates "
            "is constant and any consistent quadrature (quad is exact on polynomials to rounding) "
            "integrates it exactly.",
            f"- **PNDM: confirmed, and correct.** It stops at ᾱ_0 (`set_alpha_to_one=False` by "
            f"default): target variance {pndm['end_variance_target']:.4e} = 1 − ᾱ_0; output "
            f"{pndm['variance_ideal_exact_start']:.6e} with exact tables from the exact start "
            f"(relative {pndm['relative_ideal']:.1e}), {pndm['variance_shipped_from_N01']:.6e} as "
            f"shipped from N(0, 1) (relative {pndm['relative_shipped']:.1e}: start-up and table "
            "precision, see the table). Compared with the target smoothed to that level it adapts "
            "up to the d* above.",
            f"- **DEIS: stops at the t = 0 noise level too (final σ = σ(ᾱ_0)); the 2 % is refuted.** "
            f"Target {deis['end_variance_target']:.4e}; output "
            f"{deis['variance_ideal_exact_start']:.6e} (relative {deis['relative_ideal']:.1e}) "
            f"with exact tables, {deis['variance_shipped_from_N01']:.6e} (relative "
            f"{deis['relative_shipped']:.1e}) as shipped. A variance estimated from 20 000 "
            "samples has relative standard error sqrt(2/20000) = 1 %: 1.02e-4 is a 2σ "
            "Monte Carlo fluctuation.", "",
            _tiny_variance_bullet(run), "", "## Not applicable", ""]
    out += [f"- `{k}`: {why}" for k, why in sorted(run["not_applicable"].items())]
    return "\n".join(out) + "\n"


def _dpm_answer(run: dict[str, Any]) -> str:
    row = run["rows"].get("DPM-Solver++ 2M")
    if row is None or not row["orders"]:
        return ""
    smooth, rough = row["orders"].get("smooth"), row["orders"].get("rough")
    return ("**Is DPM-Solver++ 2M second order on low-dimensional data?** On the smooth k = 1 "
            f"target the fitted order is {_order_text(smooth)} (N = 10 … 200, exact start, exact "
            f"tables); on the rough (near-discrete) target it is {_order_text(rough)}: the rough "
            "target costs it its order — the error is dominated by the near-discrete part, and "
            "at N = 20–50 the map folds (non-monotone) for several multistep solvers.")


#: The schedulers of the issue's "≈ 1e-18" observation.
_TINY = ("DPM-Solver++ 2M", "DPM-Solver++ 3M", "UniPC 2 (bh2)", "Euler", "Heun", "Euler ancestral")


def _tiny_variance_bullet(run: dict[str, Any]) -> str:
    parts = []
    for label in _TINY:
        row = run["rows"].get(label)
        if row is None:
            continue
        vals = []
        for dtype, a in row["audits"].items():
            if a.total is None:
                continue
            table = next(c for c in a.causes if c.name == "table precision").contribution.value
            vals.append(f"{dtype} {a.total.contribution.value - table:.1e}")
        parts.append(f"{label}: " + ", ".join(vals))
    return ("- **≈ 1e-18 off the data for DPM-Solver++ 2M/3M, UniPC, Euler, Heun, Euler-ancestral: "
            "confirmed for a model on the library's own tables.** Output variance off the data "
            "without the table-precision cause (the model's noise levels equal to the scheduler's "
            "float32 table, as in the issue's measurement): " + "; ".join(parts) + ". Against the "
            "exact β table, the float32 ᾱ at the last step leaves a variance of about 1e-13–7e-13 "
            "(the table column).")


def _figure(run: dict[str, Any], path: Path) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - matplotlib is in the report extra
        return False
    fig, axes = plt.subplots(1, 2, figsize=(13, 5), sharey=True)
    labels = [label for label, row in run["rows"].items() if row["orders"]]
    colours = plt.get_cmap("tab20")(np.linspace(0.0, 1.0, max(len(labels), 1)))
    markers = "osv^D<>xP*h"
    for ax, target in zip(axes, ("smooth", "rough"), strict=True):
        for i, label in enumerate(labels):
            o = run["rows"][label]["orders"].get(target)
            if o is None:
                continue
            ok = [(n, e.value) for n, e in zip(o.steps, o.tv, strict=True)
                  if e.stderr < 0.5 * e.value]
            if ok:
                ax.loglog(*zip(*ok, strict=True), marker=markers[i % len(markers)],
                          color=colours[i], label=label)
        ax.set_title(f"{target} k = 1 target (exact start, exact tables, float64)")
        ax.set_xlabel("N (inference steps)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("TV(output, target)")
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, fontsize=7, loc="center right")
    fig.tight_layout(rect=(0.0, 0.0, 0.8, 1.0))
    try:
        with atomic_path(path) as tmp:  # an interrupted run keeps the previous figure
            fig.savefig(tmp, dpi=110, format=path.suffix.lstrip(".") or "png")
    finally:
        plt.close(fig)
    return True


def _json(run: dict[str, Any]) -> dict[str, Any]:
    return {"rows": {label: {"class": r["class"], "config": r["config"],
                             "step_kwargs": r["step_kwargs"], "steps": r["steps"],
                             "audits": {d: a.to_dict() for d, a in r["audits"].items()},
                             "orders": {k: o.to_dict() for k, o in r["orders"].items()}}
                     for label, r in run["rows"].items()},
            "observations": run["observations"], "seed": run["seed"],
            "versions": run["versions"], "seconds": run["seconds"]}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m theorycheck.audit.diffusers_table [--report OUT.md] [--json OUT] [--only L]``.

    Exit 0 when every row was audited (verdicts are findings, not failures), 1 when a row's
    float64 run failed mid-chain.
    """
    parser = argparse.ArgumentParser(prog="theorycheck.audit.diffusers_table")
    parser.add_argument("--report", default="reports/diffusers-audit.md")
    parser.add_argument("--json", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="*", default=None, help="row labels")
    parser.add_argument("--no-orders", action="store_true")
    args = parser.parse_args(argv)
    with task_reporter("diffusers table") as report:
        run = run_table(seed=args.seed, labels=args.only, orders=not args.no_orders,
                        progress=report)
    path = Path(args.report)
    fig_path = path.with_name(path.stem + "-order.png")
    figure = fig_path.name if _figure(run, fig_path) else None
    atomic_write_text(path, table_markdown(run, figure))
    print(f"report written to {path} ({run['seconds']:.0f} s)")
    if args.json:
        atomic_write_text(args.json, json.dumps(_json(run), indent=2) + "\n")
    failed = [label for label, r in run["rows"].items() if r["audits"]["float64"].total is None]
    for label in failed:
        print(f"float64 run failed: {label}")
    return 0 if not failed else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
