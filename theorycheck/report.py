"""Verification results → markdown report with log-log figures (pure: no numerics are run).

A claim asks for figures through ``result.details["plots"]``: a list of plot specs
``{"name", "title", "x", "y", "series", "xlabel", "ylabel", "logx", "logy", "reference"}`` where
``x`` is a point parameter, ``y`` an estimate name, ``series`` an optional parameter that splits
the points into curves, and ``reference`` an optional theory line ``{"slope", "label"}`` drawn
through the first point of each series.  Points are taken from the claim's measured points,
with error bars from their standard errors / tolerances.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from theorycheck.errors import InvalidParameterError
from theorycheck.literature import LITERATURE_CLAIMS, agreement_section

__all__ = ["write_report", "render_markdown"]


def _cell(text: Any) -> str:
    """Escape a value for a markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _fits_text(fits: dict[str, Any]) -> list[str]:
    lines = []
    for name, fit in fits.items():
        if isinstance(fit, dict) and "raw" in fit and isinstance(fit["raw"], dict):
            parts = []
            for key in ("raw", "corrected"):
                f = fit.get(key)
                if isinstance(f, dict) and f.get("slope") is not None:
                    parts.append(f"{key}: {f['slope']:.3f} [{f['ci_low']:.3f}, {f['ci_high']:.3f}]"
                                 f" ({f.get('points_used', '?')} points)")
            lines.append(f"- `{name}`: " + "; ".join(parts))
        elif isinstance(fit, dict) and fit.get("slope") is not None:
            lines.append(f"- `{name}`: slope {fit['slope']:.3f} "
                         f"[{fit.get('ci_low', float('nan')):.3f}, {fit.get('ci_high', float('nan')):.3f}]")
    return lines


def _judgement_lines(result: dict[str, Any]) -> list[str]:
    """The judgements of a result as a table (series, prediction, verdict, measured law,
    resolution); nothing when the claim does not use the judging layer."""
    judgements = result.get("details", {}).get("judgements")
    if not judgements:
        return []
    lines = ["| series | prediction | verdict | measured | resolution (powers) |",
             "|---|---|---|---|---|"]
    for j in judgements:
        res = "—" if j.get("resolution") is None else f"{j['resolution']:.3g}"
        lines.append(f"| {_cell(j['series'])} | {j['kind']} | {j['verdict']} | "
                     f"{_cell(j['measured'])} | {res} |")
    return [*lines, ""]


def _points_table(points: list[dict[str, Any]], limit: int = 60) -> list[str]:
    if not points:
        return ["(no measured points)"]
    param_keys: list[str] = []
    est_keys: list[str] = []
    for p in points:
        for k in p["params"]:
            if k not in param_keys:
                param_keys.append(k)
        for k in p["estimates"]:
            if k not in est_keys:
                est_keys.append(k)
    header = "| " + " | ".join(param_keys + est_keys) + " |"
    lines = [header, "|" + "---|" * (len(param_keys) + len(est_keys))]
    methods: dict[str, str] = {}
    for p in points[:limit]:
        cells = [_cell(_fmt(p["params"].get(k, ""))) for k in param_keys]
        for k in est_keys:
            est = p["estimates"].get(k)
            if est is None:
                cells.append("")
                continue
            methods.setdefault(k, f"{est['method']} ({est.get('error_kind', 'exact')})")
            if est["stderr"]:
                cells.append(f"{est['value']:.4g} ± {est['stderr']:.2g}")
            else:
                cells.append(f"{est['value']:.4g}")
        lines.append("| " + " | ".join(cells) + " |")
    if len(points) > limit:
        lines.append(f"\n({len(points) - limit} more points in the JSON results)")
    lines.append("")
    lines.append("Methods (± is one standard error for Monte Carlo, the bound for tolerances; "
                 "exact values carry none):")
    lines += [f"- `{k}`: {m}" for k, m in methods.items()]
    return lines


def _plot(spec: dict[str, Any], points: list[dict[str, Any]], path: Path) -> bool:
    try:
        import matplotlib
    except ImportError:
        from theorycheck.errors import TheorycheckError

        raise TheorycheckError("report figures need matplotlib: pip install "
                               "'theorycheck[report]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for p in points:
        if spec["x"] not in p["params"] or spec["y"] not in p["estimates"]:
            continue
        est = p["estimates"][spec["y"]]
        label = str(p["params"].get(spec.get("series") or "", "")) if spec.get("series") else ""
        series[label].append((float(p["params"][spec["x"]]), float(est["value"]),
                              float(est["stderr"])))
    if not series:
        return False
    many = len(series) > 4  # a long legend goes beside the axes, not over the curves
    fig, ax = plt.subplots(figsize=(8.0 if many else 5.6, 4.0), dpi=110)
    data_y: list[float] = []
    colours = plt.get_cmap("tab20" if len(series) > 10 else "tab10").colors  # type: ignore[attr-defined]
    for index, (label, rows) in enumerate(series.items()):
        rows.sort()
        xs, ys, es = zip(*rows, strict=True)
        prefix = f"{spec.get('series')}={label}" if label else spec["y"]
        ax.errorbar(xs, ys, yerr=es, marker="osD^v"[index // 10 % 5], ms=3.5, capsize=2, lw=1,
                    color=colours[index % len(colours)], label=prefix)
        data_y.extend(y for y in ys if math.isfinite(y))
        ref = spec.get("reference")
        if ref and ys[0] > 0:
            slope = float(ref["slope"])
            ax.plot([xs[0], xs[-1]], [ys[0], ys[0] * (xs[-1] / xs[0]) ** slope], "k:", lw=0.8)
    if spec.get("reference"):
        ax.plot([], [], "k:", lw=0.8, label=spec["reference"].get("label", "theory rate"))
    if spec.get("logx", True):
        ax.set_xscale("log")
    if spec.get("logy", True):
        ax.set_yscale("log")
        positive = [y for y in data_y if y > 0]
        if positive:  # the axis follows the data; theory lines are clipped, never rescale it
            ax.set_ylim(min(positive) / 2.0, max(positive) * 2.0)
    ax.set_xlabel(spec.get("xlabel", spec["x"]))
    ax.set_ylabel(spec.get("ylabel", spec["y"]))
    ax.set_title(spec.get("title", ""), fontsize=9)
    if many:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    else:
        ax.legend(fontsize=7)
    ax.grid(True, which="both", lw=0.3, alpha=0.5)
    fig.tight_layout()
    from theorycheck._atomic import atomic_path

    try:
        with atomic_path(path) as tmp:  # an interrupted report keeps the previous figure
            fig.savefig(tmp, format=path.suffix.lstrip(".") or "png")
    finally:
        plt.close(fig)
    return True


def _false_alarm_lines(doc: dict[str, Any]) -> list[str]:
    lines = ["", "## False alarms over seeds", "",
             f"Profile {doc.get('profile')}, {doc.get('seeds')} seeds "
             f"(0..{doc.get('seeds', 1) - 1}), {doc.get('wall_seconds', 0):.0f} s wall"
             + (f" (sum over {doc['shards']} shards of disjoint claims)" if doc.get("shards", 1) > 1
                else "") + ". "
             f"Rule: {doc.get('rule', '')}. A "
             "seed-independent claim (two seeds gave identical results: exact or quadrature "
             "methods only) counts its one result for every seed.", "",
             "| claim | seed-independent | check FAIL | check INCONCLUSIVE | control did not FAIL "
             "| boundary control detected (power) |",
             "|---|---|---|---|---|---|"]
    for c in doc["claims"]:
        runs = c.get("boundary_runs", 0)
        power = f"{runs - c.get('boundary_not_fail', 0)}/{runs}" if runs else "—"
        lines.append(f"| {c['claim']} | {'yes' if c['seed_independent'] else 'no'} | "
                     f"{c['fail']}/{c['seeds']} | {c['inconclusive']}/{c['seeds']} | "
                     f"{c['control_not_fail']}/{c['seeds']} | {power} |")
    lines += ["", *(f"> {note}" for note in doc.get("notes", []))] if doc.get("notes") else []
    return lines


def _docs_anchor(claim: dict[str, Any]) -> str:
    """The claim's entry in docs/theory.md (older result files lack ``source.docs``)."""
    return str(claim["source"].get("docs") or f"docs/theory.md#{claim['id'].lower()}")


def render_markdown(results: dict[str, Any], *, figure_dir: Path | None,
                    figure_prefix: str = "", false_alarms: dict[str, Any] | None = None) -> str:
    """Markdown for validated results; figures are written to ``figure_dir`` if given.

    ``false_alarms`` is a document from :func:`theorycheck.claims.false_alarms.load_false_alarms`;
    when given, its per-claim counts become a section after the summary.
    """
    env = results["environment"]
    claims = results["claims"]
    lines = ["# theorycheck verification report", "",
             f"Profile **{env['profile']}**, seed {env['seed']}, mpmath precision {env['dps']} "
             f"digits; theorycheck {env.get('theorycheck')}, numpy {env.get('numpy')}, scipy "
             f"{env.get('scipy')}, mpmath {env.get('mpmath')}, Python {env.get('python')}.", "",
             "A claim PASSes only if its check passes **and** its negative control (a "
             "deliberately wrong sampler, schedule or score run through the same check) FAILs "
             "**and**, where declared, its boundary control (wrong just barely) FAILs; a check "
             "whose controls do not fail is reported INCONCLUSIVE.", "",
             "## Summary", "",
             "| claim | source | predicted | measured | verdict | negative control | "
             "boundary control |",
             "|---|---|---|---|---|---|---|"]
    for c in claims:
        lines.append(f"| [{c['id']}](#{c['id'].lower()}) | {_cell(c['source']['paper'])} "
                     f"({c['source']['arxiv']}, {_cell(c['source']['location'])}) | "
                     f"{_cell(c['prediction']['description'])} | {_cell(c['result']['measured'])} | "
                     f"**{c['verdict']}** | {c['negative_control_verdict']} | "
                     f"{c.get('boundary_control_verdict', '—')} |")
    timing = results.get("timing", {})
    if timing:
        shards = timing.get("shards", 1)
        lines += ["", f"Runtime: {timing.get('total_wall_seconds', 0):.1f} s wall in total"
                  + (f" (sum over {shards} shards)." if shards > 1
                     else ".")]
    if false_alarms is not None:
        lines += _false_alarm_lines(false_alarms)
    if any(c["id"] in LITERATURE_CLAIMS for c in claims):
        lines += agreement_section(results)
    for c in claims:
        lines += ["", f"## {c['id']}", "", f"**{c['title']}** — verdict **{c['verdict']}** "
                  f"(check: {c['claim_verdict']}, negative control: "
                  f"{c['negative_control_verdict']})", "",
                  f"*Source:* {c['source']['paper']}, arXiv {c['source']['arxiv']}, "
                  f"{c['source']['location']} (see `{_docs_anchor(c)}`).", "",
                  f"*Claim:* {c['statement']}", "", f"$$ {c['latex']} $$", "",
                  f"*Measured quantity:* {c['quantity']}", "",
                  f"*Prediction:* {c['prediction']['description']} ({c['prediction']['kind']}, "
                  f"tolerance {c['prediction']['tolerance']:g}). *Why this tolerance:* "
                  f"{c['prediction']['rationale']}", "",
                  f"*Grid ({env['profile']}):* {c['grids'].get(env['profile'], '')}", "",
                  f"*Result:* {c['result']['summary']}", ""]
        lines += _judgement_lines(c["result"])
        fit_lines = _fits_text(c["result"]["fits"])
        if fit_lines:
            lines += ["Fitted slopes (95 % CI):", "", *fit_lines, ""]
        for note in c["result"]["details"].get("notes", []):
            lines += [f"> {note}", ""]
        for spec in c["result"]["details"].get("plots", []):
            if figure_dir is None:
                continue
            name = f"{figure_prefix}{c['id'].lower()}-{spec['name']}.png"
            points = c["result"]["points"]
            if spec.get("include_control"):
                points = points + c["negative_control_result"]["points"]
            if _plot(spec, points, figure_dir / name):
                lines += [f"![{spec.get('title', name)}]({name})", ""]
        lines += ["<details><summary>Measured points</summary>", "",
                  *_points_table(c["result"]["points"]), "", "</details>", "",
                  f"*Negative control:* {c['negative_control']} → "
                  f"**{c['negative_control_verdict']}**. {c['negative_control_result']['summary']}",
                  ""]
        ctrl_fits = _fits_text(c["negative_control_result"]["fits"])
        if ctrl_fits:
            lines += ["Negative-control fits:", "", *ctrl_fits, ""]
        if "boundary_control_result" in c:
            lines += [f"*Boundary control:* {c['boundary_control']} → "
                      f"**{c['boundary_control_verdict']}**. "
                      f"{c['boundary_control_result']['summary']}", "",
                      *_judgement_lines(c["boundary_control_result"])]
    lines += ["", "## Environment", "", "```", *(f"{k}: {v}" for k, v in env.items()), "```", ""]
    return "\n".join(lines)


def write_report(results: dict[str, Any], output: str | Path, *,
                 false_alarms: dict[str, Any] | None = None) -> Path:
    """Write the markdown report and its figures (PNG, beside the markdown file)."""
    out = Path(output)
    if out.suffix != ".md":
        raise InvalidParameterError(f"`output` must be a .md path (got {str(out)!r})")
    out.parent.mkdir(parents=True, exist_ok=True)
    prefix = out.stem + "-"
    text = render_markdown(results, figure_dir=out.parent, figure_prefix=prefix,
                           false_alarms=false_alarms)
    from theorycheck._atomic import atomic_write_text

    atomic_write_text(out, text)
    return out
