"""Markdown rendering of audit results (pure: formats numbers, computes nothing)."""

from __future__ import annotations

from collections.abc import Sequence

from theorycheck.audit.causes import CauseBreakdown
from theorycheck.audit.verdict import AuditResult
from theorycheck.results import Estimate

__all__ = ["audit_markdown", "audit_summary_lines", "audit_table", "breakdown_summary_lines",
           "breakdown_markdown"]


def _est(e: Estimate) -> str:
    return f"{e.value:.4e} ± {e.stderr:.1e}"


def audit_summary_lines(result: AuditResult) -> list[str]:
    """Terminal summary: verdict first, then the reasons."""
    lines = [f"audit of {result.name} (T = {result.num_steps}): {result.verdict.value.upper()}"]
    lines += [f"  - {reason}" for reason in result.reasons]
    lines.append(f"  ({result.seconds:.1f} s)")
    return lines


def audit_markdown(result: AuditResult, *, heading_level: int = 1) -> str:
    """One audit as a markdown section: verdict, reasons, coefficients, condition, checks."""
    h = "#" * heading_level
    out = [f"{h} Audit of `{result.name}`: **{result.verdict.value}**", "",
           f"T = {result.num_steps}; {result.seconds:.1f} s; exit code {result.exit_code}.", ""]
    out += [f"- {reason}" for reason in result.reasons]
    probe = result.probe
    out += ["", f"{h}# Probe", "",
            f"{probe.num_calls} calls of `step`; residuals relative to the output "
            f"(threshold {probe.rtol:g}): "
            + ", ".join(f"{k} {v:.1e}" for k, v in probe.to_dict()["residuals"].items()) + ".",
            "", "| t | α_t | η_t | σ_t | a_t ± err | b_t ± err | c_t ± err |",
            "|---|---|---|---|---|---|---|"]
    T = result.num_steps
    for row in probe.coefficient_table(tuple(sorted({2, 3, T // 2, T} - {0, 1}))):
        out.append(f"| {row['t']} | {row['alpha']:.10g} | {row['eta']:.6e} | {row['sigma']:.6e} "
                   f"| {row['a']:.12g} ± {row['a_err']:.0e} | {row['b']:.6e} ± {row['b_err']:.0e} "
                   f"| {row['c']:.6e} ± {row['c_err']:.0e} |")
    cond = result.condition
    if cond is not None:
        out += ["", f"{h}# One-step condition (Liang, Huang & Chen, arXiv:2501.12982; docs/theory.md §4)", "",
                f"- max_t |R_t − 1| = {_est(cond.max_abs)} at t = {cond.worst_step}",
                f"- e_coef (exact start) = {_est(cond.coefficient_error)}",
                f"- e_total (from N(0, I)) = {_est(cond.total_error)}",
                f"- growth constant |e_coef|/sqrt(4π) = {_est(cond.growth_constant())} "
                "(orthogonal TV per sqrt(d))", "",
                "| d | predicted orthogonal TV (coefficients) | with start-up |", "|---|---|---|"]
        for d, est in cond.predicted_tv.items():
            out.append(f"| {d:.0e} | {_est(est)} | {_est(cond.predicted_tv_total[d])} |")
    bf = result.brute_force
    out += ["", f"{h}# Brute force (the black box's own chains)", "",
            f"- {bf.measured.method}: ê = {_est(bf.measured)}"]
    if bf.predicted is not None:
        out.append(f"- predicted e_total = {_est(bf.predicted)}; z = {bf.z_score:.2f}; "
                   f"{'agrees' if bf.agrees else 'DISAGREES'}")
    if result.dfree is not None:
        df = result.dfree
        out += ["", f"{h}# DFREE-style: exact-split TV against d (k = 1)", "",
                f"Call: **{df.call}** (spread {df.spread:.3g} over the judged range; judged up to "
                f"d = {df.judged_max_dim:.3g}).", "", "| d | TV(p_X1, p_Y1) | method |",
                "|---|---|---|"]
        for d, est in zip(df.dims, df.tv, strict=True):
            out.append(f"| {d:.0e} | {_est(est)} | {est.method} |")
    if result.rate is not None:
        rc = result.rate
        out += ["", f"{h}# RATE-style (fixed T)", "",
                f"- TV_k (k = 1) = {_est(rc.tv_k1)}; TV_k (k = 2) = {_est(rc.tv_k2)}",
                f"- slope in k = {_est(rc.k_slope)} ({'≤ 1: consistent' if rc.consistent else '> 1'})",
                f"- TV·T/log T = {_est(rc.rate_constant)}", f"- {rc.note}"]
    return "\n".join(out) + "\n"


def audit_table(results: Sequence[AuditResult]) -> str:
    """Summary table of several audits."""
    out = ["| sampler | T | verdict | max abs(R_t − 1) | e_coef | brute force ê |",
           "|---|---|---|---|---|---|"]
    for r in results:
        cond = r.condition
        out.append(f"| `{r.name}` | {r.num_steps} | **{r.verdict.value}** | "
                   f"{'—' if cond is None else f'{cond.max_abs.value:.2e}'} | "
                   f"{'—' if cond is None else _est(cond.coefficient_error)} | "
                   f"{_est(r.brute_force.measured)} |")
    return "\n".join(out) + "\n"


def _d(d: float | None) -> str:
    return "never" if d is None or d == float("inf") else f"{d:.3g}"


def breakdown_summary_lines(result: CauseBreakdown) -> list[str]:
    """Terminal summary of a per-cause audit: verdict and dominating cause first."""
    lines = [f"audit of {result.name} (N = {result.settings['steps']}, "
             f"{result.settings['dtype']}): {result.verdict.upper()}"
             + (f" (dominating cause: {result.dominating})" if result.dominating else "")]
    lines += [f"  - {reason}" for reason in result.reasons]
    if result.causes:
        sizes = list(result.causes[0].at_sizes)
        measure = "TV_⊥" if result.comparison == "smoothed" else "W2_⊥"
        lines.append(f"  {measure} at " + ", ".join(sizes) + ":")
        for c in (*result.causes, *((result.total,) if result.total else ())):
            lines.append(f"    {c.name:<18} " + "  ".join(f"{v:.2e}" for v in c.at_sizes.values()))
    lines.append(f"  ({result.seconds:.1f} s)")
    return lines


def breakdown_markdown(result: CauseBreakdown, *, heading_level: int = 1) -> str:
    """One per-cause audit as a markdown section."""
    h = "#" * heading_level
    measure = "TV_⊥" if result.comparison == "smoothed" else "W2_⊥"
    unit = "relative variance error" if result.comparison == "smoothed" else "variance"
    out = [f"{h} Audit of `{result.name}`: **{result.verdict}**", "",
           f"N = {result.settings['steps']}, dtype {result.settings['dtype']}, "
           f"ε = {result.settings['eps']:g}, d_max = {result.settings['max_ambient_dim']:.0e}; "
           f"{result.seconds:.1f} s; exit code {result.exit_code}.", ""]
    out += [f"- {reason}" for reason in result.reasons]
    if result.causes:
        sizes = list(result.causes[0].at_sizes)
        out += ["", f"| cause | {unit} ± error | d*(ε) | " + " | ".join(
            f"{measure} at {s}" for s in sizes) + " |",
            "|---|---|---|" + "---|" * len(sizes)]
        for c in (*result.causes, *((result.total,) if result.total else ())):
            e = c.contribution
            out.append(f"| {c.name} | {e.value:.3e} ± {e.stderr:.1e} | {_d(c.d_star)} | "
                       + " | ".join(f"{v:.2e}" for v in c.at_sizes.values()) + " |")
    return "\n".join(out) + "\n"
