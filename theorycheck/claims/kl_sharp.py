"""Claim KL-SHARP: KL of DDPM-posterior is linear in the intrinsic dimension k (sharp in k).

Potaptchik, Azangulov & Deligiannidis (arXiv:2410.09046, COLT 2025, abstract) prove that the
number of steps needed for ε accuracy in KL is linear in the intrinsic dimension (up to logs),
"and that this linear dependency is sharp" (a summary page: by tensorisation).  What is judged
is that statement and nothing more: at fixed T, ``KL/k`` is bounded below over k, i.e. the
k-exponent of KL is ≥ ``1 - tol``.  On product targets of identical factors this is
tensorisation, ``KL_k = k·KL_1`` — the very argument of the paper — so the check mainly guards
the measurement chain (the product method must add the factors' KL, nothing else).  A genuinely
non-product k = 2 target needs a k = 2 grid method, which this version does not have (a rotated
product or a correlated Gaussian is still a product in its own frame): not measured.

Judged (k-direction): products of k rough factors ``0.3 N(-1, sd²) + 0.7 N(1, sd²)`` with sd at
the final noise scale (``sd = T⁻¹ = 0.01`` at T = 100), DDPM-posterior with exact score,
``KL(p_X1 || p_Y1)`` by per-coordinate grid quadrature
(:func:`theorycheck.experiments.measure_leading_factors`).  The exponent of KL in k is fitted
by :func:`theorycheck.fitting.fit_slope` (95 % interval, Birge-inflated) and judged by
:func:`theorycheck.fitting.judge_slope` (``kind="lower"``, predicted 1, tolerance
:data:`_K_TOLERANCE`).

Measured and reported, not judged (T-direction): KL over T on rough (sd = T⁻¹, sd 0.01) and smooth
(sd 0.1) one-dimensional targets, with the exponent of KL on the largest three T and
``KL·T²/log²T``.  With exact scores KL decays like ≈ (log T/T)², so the 1/T rate of the upper
bounds is not attained in T on these targets: the bounds ``k·polylog(T)/T`` are loose in T; what
is sharp is k.

Negative control ("worst case" whose difficulty does not grow with k): one hard coordinate and
k-1 easy ones, KL/k falls with k → FAIL.  Measured at T = 100 (per coordinate): the
hard factor is N(0, 1), KL 2.9e-3; the easy one N(0, 0.01²), KL 6.6e-4; the rough two-point
factor 8.2e-4 — in KL the smooth Gaussian is *harder* per coordinate than the rough factor.
Boundary control: k identical coordinates ``N(0, s_k²)`` whose per-coordinate KL falls like
``k^-0.2`` (``s_k`` calibrated at T = 100), so ``KL_k ∝ k^0.8``, the nearest wrong law → FAIL.

Sources read: the abstract of 2410.09046 and a summary page (tensorisation); not read: the
theorem numbers, the scheme their lower bound is for, and its one-dimensional example.
"""

from __future__ import annotations

import math
from typing import Any

from theorycheck.claims.types import (
    CheckContext,
    CheckOutcome,
    Claim,
    MeasuredPoint,
    Prediction,
    Source,
    Variant,
)
from theorycheck.designs import make_design
from theorycheck.experiments import measure, measure_leading_factors
from theorycheck.fitting import LineFit, fit_slope, judge_slope
from theorycheck.results import ErrorKind, Estimate, Verdict
from theorycheck.schedules import two_phase
from theorycheck.targets import ProductMixture, SubspaceGaussianMixture

__all__ = ["register", "two_point", "gaussian_factor"]

#: KL/k bounded below over k: the k-exponent's 95 % interval must lie above 1 - 0.1 (KL_k/k may
#: fall by at most 16^-0.1 = 0.76 over k = 1..16).  A k^0.8 law is rejected (boundary control).
_K_TOLERANCE = 0.1
#: T-exponents (reported only) use the largest 3 T of each series: the law is asymptotic.
_ASYMPTOTIC_POINTS = 3
_MAX_POINTS = 2**18
#: KL only: the product method's Monte Carlo TV is not used, so it gets the minimum draw.
_MC_SAMPLES = 100
_ROUGH = ((0.3, 0.7), (-1.0, 1.0))
_HARD = ((1.0,), (0.0,), (1.0,))          # N(0, 1): KL 2.9e-3 at T = 100
_EASY = ((1.0,), (0.0,), (1e-4,))         # N(0, 0.01²): KL 6.6e-4 at T = 100
_BOUNDARY_POWER = 0.8
#: Boundary family: k identical coordinates N(0, s_k²), s_k calibrated once (brentq, x-tol 1e-4)
#: so that the per-coordinate KL at T = 100 is KL(s_1)·k^-0.2, i.e. KL_k ∝ k^0.8 (the realised
#: exponent is measured, not assumed).
_BOUNDARY_SD = {1: 2.0, 2: 1.18, 4: 0.8465, 8: 0.5965, 16: 0.3569}
_BOUNDARY_RESOLUTION = (
    "Resolution: the k-exponent's 95 % interval must lie above 0.9; on these exact-quadrature "
    "points the interval half-width is ~1e-5, so any law KL ∝ k^a with a < 0.9 is rejected; the "
    "calibrated family's realised exponent is measured (+0.8000), not assumed.")
_GRIDS: dict[str, dict[str, tuple[int, ...]]] = {
    "quick": {"k_T": (100,), "k": (1, 2, 4, 8), "final_scale_T": (25, 50, 100),
              "rough_T": (), "smooth_T": (50, 100, 200)},
    "full": {"k_T": (100, 400), "k": (1, 2, 4, 8, 16), "final_scale_T": (25, 50, 100, 200, 400),
             "rough_T": (50, 100, 200, 400, 800), "smooth_T": (50, 100, 200, 400, 800)},
}


def two_point(sd: float) -> SubspaceGaussianMixture:
    """``0.3 N(-1, sd²) + 0.7 N(1, sd²)`` on R (k = d = 1)."""
    return SubspaceGaussianMixture.create(list(_ROUGH[0]), [[m] for m in _ROUGH[1]],
                                          [[[sd * sd]], [[sd * sd]]])


def gaussian_factor(sd: float) -> tuple[tuple[float, ...], tuple[float, ...],
                                        tuple[float, ...]]:
    """Factor spec of ``N(0, sd²)`` for :meth:`ProductMixture.create`."""
    return ((1.0,), (0.0,), (sd * sd,))


def _design(T: int) -> Any:
    return make_design("ddpm_posterior", two_phase(T))


def _product_kls(factors: list[Any], ks: tuple[int, ...], T: int, ctx: CheckContext,
                 index: int) -> list[Estimate]:
    """KL of the products of the first k factors, k in ``ks`` (per-coordinate grid quadrature)."""
    target = ProductMixture.create(factors)
    ms = measure_leading_factors(target, _design(T), list(ks), rng=ctx.point_rng(index),
                                 metrics=("kl",), num_samples=_MC_SAMPLES,
                                 max_num_points=_MAX_POINTS)
    return [m.values["kl"] for m in ms]


def _fit_text(fit: LineFit) -> str:
    if not fit.usable or fit.slope is None:
        return f"no fit ({fit.note})"
    return (f"{fit.slope:+.4f} ± {fit.slope_stderr:.1e} (95 % [{fit.ci_low:+.4f}, "
            f"{fit.ci_high:+.4f}], {fit.ci_method})")


def _k_family(name: str, factors: list[Any] | None, T: int, ctx: CheckContext, index: int,
              points: list[MeasuredPoint]) -> dict[str, Any]:
    """KL_k over k for one family at fixed T; its k-exponent, fit and verdict.

    ``factors``: the first k of them make target k; ``None``: the boundary family (k copies of
    ``N(0, s_k²)``, one product per k).
    """
    ks = _GRIDS[ctx.profile]["k"]
    if factors is not None:
        kls = _product_kls(factors, ks, T, ctx, index)
    else:
        kls = [_product_kls([gaussian_factor(_BOUNDARY_SD[k])] * k, (k,), T, ctx,
                            100 * index + k)[0] for k in ks]
    for k, kl in zip(ks, kls, strict=True):
        points.append(MeasuredPoint(
            params={"family": name, "T": T, "k": k, "series": f"{name}, T={T}"},
            estimates={"kl": kl, "kl_over_k": Estimate(
                value=kl.value / k, stderr=kl.stderr / k, method="KL/k",
                error_kind=ErrorKind.TOLERANCE)}))
    fit = fit_slope(ks, [e.value for e in kls], [e.stderr for e in kls]).raw
    verdict = judge_slope(fit, predicted=1.0, kind="lower", tolerance=_K_TOLERANCE)
    per_k = [e.value / k for k, e in zip(ks, kls, strict=True)]
    return {"family": name, "T": T, "k": list(ks), "kl": [e.value for e in kls],
            "kl_stderr": [e.stderr for e in kls], "kl_over_k_min_over_max": min(per_k) / max(per_k),
            "fit": fit.to_dict(), "verdict": verdict.value, "text": f"{name}, T = {T}: k-exponent "
            f"{_fit_text(fit)}, min/max of KL/k {min(per_k) / max(per_k):.4f}"}


def _combine(verdicts: list[Verdict]) -> Verdict:
    return (Verdict.FAIL if Verdict.FAIL in verdicts else Verdict.INCONCLUSIVE
            if Verdict.INCONCLUSIVE in verdicts else Verdict.PASS)


def _t_series(name: str, sd_of_t: Any, steps: tuple[int, ...], ctx: CheckContext,
              points: list[MeasuredPoint], known: dict[tuple[float, int], Estimate]
              ) -> dict[str, Any]:
    """KL over T for one 1-D family (reported): exponent of KL on the largest 3 T, KL·T²/log²T."""
    kls = []
    for T in steps:
        sd = float(sd_of_t(T))
        kl = known.get((sd, T))
        if kl is None:
            kl = measure(two_point(sd), _design(T), rng=ctx.point_rng(len(points)),
                         metrics=("kl",), max_num_points=_MAX_POINTS).values["kl"]
        kls.append(kl)
        scale = (T / math.log(T)) ** 2
        points.append(MeasuredPoint(
            params={"family": name, "T": T, "sd": sd, "series": name},
            estimates={"kl": kl, "kl_T2_over_log2T": Estimate(
                value=kl.value * scale, stderr=kl.stderr * scale, method="KL·T²/log²T",
                error_kind=ErrorKind.TOLERANCE), "kl_T_over_logT": Estimate(
                value=kl.value * T / math.log(T), stderr=kl.stderr * T / math.log(T),
                method="KL·T/log T", error_kind=ErrorKind.TOLERANCE)}))
    top = slice(-_ASYMPTOTIC_POINTS, None)
    fit = fit_slope(steps[top], [e.value for e in kls][top], [e.stderr for e in kls][top],
                    min_points=2).raw
    ratios = [e.value * (T / math.log(T)) ** 2 for T, e in zip(steps, kls, strict=True)]
    return {"family": name, "T": list(steps), "kl": [e.value for e in kls],
            "kl_T2_over_log2T": ratios, "fit_T": list(steps[top]), "fit": fit.to_dict(),
            "text": (f"{name}: T-exponent of KL {_fit_text(fit)} on T = {list(steps[top])}; "
                     "KL·T²/log²T " + ", ".join(f"{r:.3f}" for r in ratios))}


def _check(ctx: CheckContext) -> CheckOutcome:
    grid = _GRIDS[ctx.profile]
    points: list[MeasuredPoint] = []
    k_max = grid["k"][-1]
    if ctx.variant in (Variant.CONTROL, Variant.BOUNDARY):
        # Control: one hard coordinate, k-1 easy ones (gross).  Boundary: per-coordinate
        # difficulty falling like k^-0.2 (KL ∝ k^0.8, the nearest wrong law).
        if ctx.variant is Variant.CONTROL:
            fam = _k_family("one hard + (k-1) easy coordinates",
                            [_HARD] + [_EASY] * (k_max - 1), 100, ctx, 0, points)
            notes: list[str] = []
        else:
            fam = _k_family(f"k copies of N(0, s_k²), KL ∝ k^{_BOUNDARY_POWER:g} (boundary)",
                            None, 100, ctx, 1, points)
            notes = [_BOUNDARY_RESOLUTION]
        return CheckOutcome(
            verdict=Verdict(fam["verdict"]),
            summary=fam["text"] + f" (KL/k bounded below needs the interval ≥ "
                                  f"{1 - _K_TOLERANCE:g})",
            measured=f"k-exponent {fam['fit']['slope']:+.3f}",
            points=tuple(points), details={"k_families": [fam], "plots": [], "notes": notes})
    fams = [_k_family("product of rough factors (sd 0.01)",
                      [(*_ROUGH, (1e-4, 1e-4))] * k_max, T, ctx, i, points)
            if T == 100 else
            _k_family(f"product of rough factors (sd 1/T = {1 / T:g})",
                      [(*_ROUGH, (T ** -2.0, T ** -2.0))] * k_max, T, ctx, i, points)
            for i, T in enumerate(grid["k_T"])]
    verdict = _combine([Verdict(f["verdict"]) for f in fams])
    # k = 1 of each product is the 1-D rough target at sd 1/T: reused by the T-series.
    known = {(1.0 / f["T"], f["T"]): Estimate(value=f["kl"][0], stderr=f["kl_stderr"][0],
                                                method="grid quadrature (k = 1 of the product)",
                                                error_kind=ErrorKind.TOLERANCE) for f in fams}
    series = [_t_series("final-scale sd = 1/T", lambda T: 1.0 / T, grid["final_scale_T"], ctx,
                        points, known)]
    if grid["rough_T"]:
        series.append(_t_series("rough sd 0.01", lambda T: 0.01, grid["rough_T"], ctx, points,
                                {(0.01, 100): known[(0.01, 100)]} if (0.01, 100) in known
                                else {}))
    series.append(_t_series("smooth sd 0.1", lambda T: 0.1, grid["smooth_T"], ctx, points, {}))
    t_exps = {s["family"]: s["fit"]["slope"] for s in series}
    t_text = "; ".join(s["text"] for s in series)
    summary = ("; ".join(f["text"] for f in fams) +
               f" (judged: interval ≥ {1 - _K_TOLERANCE:g}; tensorisation on a product target)"
               f" — reported, not judged: {t_text}; the 1/T rate in KL is not attained with exact "
               "scores on these targets (KL ≈ C (log T/T)²)")
    notes = [
        "Judged: the k-direction only (what 2410.09046 states: linear dependence on k is sharp). "
        "On product targets KL_k = k·KL_1 is tensorisation, the paper's own argument; the check "
        "guards the measurement chain.  No genuinely non-product k ≥ 2 target is measured "
        "(the k = 2 grid is not used by this claim yet).",
        "Reported (T-direction): with exact scores DDPM-posterior's KL decays like (log T/T)² on "
        "the 1-D families measured, not like 1/T: upper bounds k·polylog(T)/T are loose in T on "
        "these targets; what is sharp is k.  Marginal KL is quadratic in a small density "
        "perturbation, so KL ≈ TV² when TV ~ log T/T.  Full profile (seed 0): T-exponent of KL "
        "-1.69 [-1.71, -1.66] (sd = 1/T, T = 100..400), -1.61 [-1.82, -1.39] (sd 0.1, "
        "T = 200..800), -1.40 [-2.40, -0.40] (sd 0.01, T = 200..800: still pre-asymptotic, "
        "KL·T²/log²T rises 0.14 → 1.03 over T = 50..800 and flattens; three points do not "
        "exclude 1/T at 95 % for this family alone).",
        "Per coordinate at T = 100 the smooth factor N(0, 1) has KL 2.9e-3 against 8.2e-4 for "
        "the rough two-point factor (sd 0.01): in KL, roughness is not the worst case here.",
        "Measured separately (not part of the check): the non-adaptive DDPM-β design behaves the "
        "same way in one dimension, KL·T²/log²T = 1.36, 1.36, 1.40, 1.44 at T = 50, 100, 200, "
        "400 (sd 0.1)."]
    k_fit = fams[0]["fit"]
    spread = 1.0 - fams[0]["kl_over_k_min_over_max"]
    agreed = "agreed" if verdict is Verdict.PASS else verdict.value
    t_phrase = ", ".join(f"T^{e:+.2f} ({n})" for n, e in t_exps.items() if e is not None)
    return CheckOutcome(
        verdict=verdict, summary=summary,
        measured=(f"k-exponent {k_fit['slope']:+.4f} [{k_fit['ci_low']:+.4f}, "
                  f"{k_fit['ci_high']:+.4f}]" if k_fit["usable"] else "k-exponent: no fit"),
        points=tuple(points),
        fits={"k_exponent": {str(f["T"]): f["fit"] for f in fams},
              "t_exponent_reported": {s["family"]: s["fit"] for s in series}},
        details={"k_families": fams, "t_series": series, "notes": notes, "plots": _PLOTS,
                 "paper_verdicts": {
                     "Potaptchik et al. (k)": (
                         f"linear in k sharp: {agreed} (tensorisation; KL_k/k varies by "
                         f"{spread:.1e} over k = {grid['k'][0]}..{k_max}, k-exponent "
                         f"{k_fit['slope']:+.4f})"),
                     "Potaptchik et al. (T)": (
                         "1/T rate attained in KL: not observed with exact scores, KL ≈ C (log "
                         f"T/T)² ({t_phrase}); upper bounds k·polylog(T)/T are loose in T here")}})


_PLOTS = [
    {"name": "kl-sharp-k", "title": "KL/k against k: products of rough factors (judged)",
     "x": "k", "y": "kl_over_k", "series": "series", "xlabel": "intrinsic dimension k",
     "ylabel": "KL(p_X1 || p_Y1)/k", "logx": True, "logy": True,
     "reference": {"slope": 0.0, "label": "linear in k (sharp)"}},
    {"name": "kl-sharp-T", "title": "KL·T²/log²T against T, k = 1 (reported, not judged)",
     "x": "T", "y": "kl_T2_over_log2T", "series": "series", "xlabel": "T",
     "ylabel": "KL(p_X1 || p_Y1)·T²/log²T", "logx": True, "logy": True,
     "reference": {"slope": 0.0, "label": "KL ≈ C (log T/T)²"}},
]


def register(registry: Any) -> None:
    """Register KL-SHARP."""
    registry.register(Claim(
        id="KL-SHARP",
        title="KL is linear in the intrinsic dimension k, and this is sharp (tensorisation)",
        source=Source(paper="Potaptchik, Azangulov & Deligiannidis", arxiv="2410.09046",
                      location=("abstract ('linear dependency is sharp') and a summary page "
                                "(tensorisation); theorem numbers, scheme and 1-D example not "
                                "read")),
        statement=("At fixed T, KL(p_X1 || p_Y1)/k of DDPM-posterior (exact score) is bounded "
                   "below over k: on products of rough factors (sd = 1/T) the k-exponent of KL "
                   "is ≥ 0.9 — tensorisation, the paper's argument, so the check guards the "
                   "measurement chain.  Reported, not judged: in T the 1/T rate is not attained "
                   "with exact scores (KL ≈ C (log T/T)² on rough and smooth 1-D targets), so "
                   "k·polylog(T)/T bounds are loose in T; what is sharp is k."),
        latex=(r"\inf_k \frac{\mathrm{KL}_k}{k}>0\ \Leftarrow\ "
               r"\partial_{\log k}\log\mathrm{KL}_k\ge 1-0.1;\quad"
               r"\text{reported: }\mathrm{KL}_1\approx C(\log T/T)^2"),
        quantity=("KL(p_X1 || p_Y1) by per-coordinate grid quadrature (two resolutions; "
                  "products: KL adds); k-exponent by weighted log-log fit, 95 % interval"),
        prediction=Prediction(kind="lower", value=1.0, tolerance=_K_TOLERANCE,
                              rationale="linear dependence on k is sharp (tensorisation)",
                              description="k-exponent of KL at fixed T: interval ≥ 0.9"),
        grids={p: (f"products k ∈ {g['k']} at T ∈ {g['k_T']} (judged); reported: sd = 1/T, "
                   f"T ∈ {g['final_scale_T']}; sd 0.01, T ∈ {g['rough_T'] or '—'}; sd 0.1, "
                   f"T ∈ {g['smooth_T']}") for p, g in _GRIDS.items()},
        negative_control=("'worst case' whose difficulty does not grow with k: one hard "
                          "coordinate (N(0, 1)) and k-1 easy ones (N(0, 0.01²)); the k-check "
                          "must FAIL"),
        boundary_control=("k coordinates N(0, s_k²), s_k calibrated at T = 100 so that the "
                          "per-coordinate KL falls like k^-0.2, i.e. KL ∝ "
                          f"k^{_BOUNDARY_POWER:g} (the nearest wrong law): the k-check "
                          "(95 % interval of the k-exponent ≥ 0.9) must FAIL.  Resolution: any "
                          "law k^a with a < 0.9 by more than the fit's 95 % half-width (~1e-5 "
                          "on these exact-quadrature points) is rejected"),
        check=_check))
