"""Claim RECOVER (Chen, Huang, Zhao & Wang 2023): distribution recovery from n samples.

Chen et al. (arXiv:2302.07194) show that for data on an unknown k-dimensional linear subspace a
score network built on the decomposition ``V f(Vᵀx, t) - (I - VVᵀ)x/(1-ᾱ_t)`` can be estimated
from n samples, that the subspace is recovered, and that the generated distribution converges
at a rate governed by k, not by the ambient dimension d (their distribution-recovery theorem,
Theorem 3 as recalled — the full text was not available here to re-verify the numbering; with a
nonparametric network class the exponent of n is the slow ``(2-2δ)/(k+5)``, and d may still
enter polynomial prefactors: the authors' follow-up, arXiv:2504.06566, states a score bound
``Õ(d^{5/2} n^{-2/(k+5)})``).  What is checked here is the stronger, measurable form for
noiseless data: no d-dependence at all.  Here the on-subspace model is
*parametric* (the data's latent law is a Gaussian mixture; fitted by EM), so the predicted rate
is the parametric one: by Wilks' theorem ``E KL(p ‖ p̂) ≈ p_k/(2n)`` with ``p_k`` the number of
latent parameters — a function of k only.  The sampler (DDPM, posterior variance, two-phase
schedule) then runs with the estimated score and its output ``p_{Y_1}`` is compared with the true
``p_{X_1}`` (TV and ``KL(p_X1 ‖ p_Y1)``) exactly through the subspace split
(:mod:`theorycheck.claims._recover_experiments`).

What is checked (every tolerance with its reason, fixed before looking at the numbers):

1. *Subspace recovered.*  Noiseless data (Chen et al.'s setting): PCA is exact for every
   n ≥ k + 1 and d, ``sin θ_max ≤ 1e-9`` at every fit.  The n^{-1/2} rate of subspace
   estimation appears once the observations carry noise in all d directions: PCA of
   ``X = UZ + τξ`` has ``sin θ_max ∝ n^{-1/2}`` (Davis–Kahan, first order) — slope −1/2 ± 0.1.
2. *Error falls with n at the parametric rate*: KL slope in n −1 ± 0.1, TV slope −1/2 ± 0.1
   (Gaussian latent, exact linear chain, T large enough that the exact-score floor is ≤ 5 % of
   the smallest error, declared as the fit's floor).
3. *Error depends on k through the latent parameter count*: ``KL / p_k`` flat in k,
   slope 0 ± 0.2 (``p_k = k + k(k+1)/2``).
4. *Flat in d*: KL and TV for a Gaussian latent (k = 2, d from 8 to 128 / 512) and for a
   two-component mixture latent (k = 1, EM fit, grid quadrature, d from 2 to 128 / 512): slope
   in d 0 ± 0.05, from per-draw slopes (the draws are shared across d, so d-to-d differences
   are paired).

Negative control: the ambient estimator, which fits the score's orthogonal part as a full
(d-k)-dimensional Gaussian from the same n samples instead of using its known form; its
sample-covariance noise in all d-k directions makes the error grow with d (and break the
k-law at fixed d), so the same check must FAIL.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from theorycheck.claims import _recover_experiments as rx
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
from theorycheck.fitting import LineFit, fit_slope, judge_slope
from theorycheck.results import ErrorKind, Estimate, Verdict
from theorycheck.schedules import two_phase

__all__ = ["register"]

FloatArray = NDArray[np.float64]

_C0, _C1 = 2.0, 4.0
_DESIGN = "ddpm_posterior"
#: Gaussian latent of the n sweep and of the noisy-PCA angles (k = 2).
_MEAN = np.array([0.5, -0.3])
_COV = np.diag([1.0, 0.5])
#: Mixture latent of the d sweep (k = 1, m = 2): separated but overlapping components.
_MIX = (np.array([0.4, 0.6]), np.array([-1.0, 1.0]), np.array([0.09, 0.16]))
_NOISE_STD = 0.1

#: The quick grid is sized by the false-alarm run over 50 seeds: with n ∈ 200..3200 (150 repeats),
#: k ∈ (1, 2, 4, 8) (100 repeats) and 20 noisy-PCA repeats the 95 % intervals straddled the
#: ±0.1 / ±0.2 bands and 31 of 50 seeds came out INCONCLUSIVE; with more repeats but the short
#: n range still 3 of 50 (KL vs n).  The n range now matches the full profile (1.8 decades);
#: the tolerances are unchanged.
_GRID: dict[str, dict[str, Any]] = {
    "quick": {"T_gauss": 2000, "n": (100, 200, 400, 800, 1600, 3200, 6400), "repeats_n": 400,
              "k": (1, 2, 3, 4, 6, 8), "n_k": 800, "repeats_k": 200, "d_gauss": 10,
              "dims_gauss": (8, 32, 128), "repeats_d": 25,
              "T_mix": 100, "dims": (2, 8, 32, 128), "n_mix": 1000, "repeats_mix": 3,
              "angle_n": (200, 400, 800, 1600, 3200), "angle_d": 16, "angle_dims": (4, 16, 64),
              "repeats_angle": 80, "mc": 2000},
    "full": {"T_gauss": 4000, "n": (100, 200, 400, 800, 1600, 3200, 6400), "repeats_n": 400,
             "k": (1, 2, 3, 4, 6, 8, 12), "n_k": 1600, "repeats_k": 300, "d_gauss": 16,
             "dims_gauss": (8, 32, 128, 512), "repeats_d": 60,
             "T_mix": 200, "dims": (2, 8, 32, 128, 512), "n_mix": 2000, "repeats_mix": 4,
             "angle_n": (100, 200, 400, 800, 1600, 3200, 6400), "angle_d": 32,
             "angle_dims": (4, 16, 64, 256), "repeats_angle": 200, "mc": 10000},
}

#: Tolerances (fixed in advance).  Slopes in n: the first-order (Wilks / Davis–Kahan) laws have
#: O(p/n) corrections (≤ 3 % over the grid), and the exact-score floor adds ≤ 5 % at the largest
#: n; together they move a slope over ≥ 1.2 decades by ≲ 0.03 — 0.1 leaves a 3× margin while a
#: d/n-type law or no decay is far outside.
N_SLOPE_TOL = 0.1
#: KL/p_k flat in k: Wilks' second-order terms grow like p_k/n (≤ 6 % at k = 8, n = 800), which
#: tilts the slope by ≲ 0.03 over 1 ≤ k ≤ 8; 0.2 also absorbs the larger per-point errors at
#: small k (p_1 = 2, χ²-like spread).  A d-like or k²-beyond-p_k law would be far outside.
K_SLOPE_TOL = 0.2
#: Flat in d, as in DFREE: |slope| ≤ 0.05 over ≥ 1.8 decades allows ≤ 1.25× change.
D_SLOPE_TOL = 0.05
ANGLE_SLOPE_TOL = 0.1
#: Boundary control: the structured estimator with its fitted latent mean biased by
#: c·n^-0.4 (c = 3, along the first latent axis), so its KL falls like n^-0.8 (plus Wilks'
#: p_k/2n) — a score estimator converging just slower than parametric.  Only the n sweep is run,
#: with a quarter of the claim's draws (the bias, not the sampling noise, dominates the KL).
#: Measured (quick, seeds 0-2): KL slope -0.83/-0.84/-0.81, FAIL, 1.5 s CPU.  Resolution (quick,
#: 100 draws, seeds 0-2): c = 2 (slope ≈ -0.86) FAILs on 3/3 seeds, c = 1.5 (≈ -0.88) on 1/3
#: (INCONCLUSIVE otherwise: the interval straddles -0.9).
_BOUNDARY_BIAS = 3.0
_BOUNDARY_BIAS_POWER = -0.4
_BOUNDARY_REPEAT_DIVISOR = 4

_RATIONALE = (
    "Slopes in n (KL −1, TV −1/2, noisy-PCA angle −1/2): first-order laws (Wilks: E KL ≈ p_k/2n; "
    "Davis–Kahan) with O(p/n) corrections ≤ 3 % on the grid and an exact-score floor ≤ 5 % of the "
    "smallest error move a slope over ≥ 1.2 decades by ≲ 0.03: tolerance 0.1. KL/p_k flat in k "
    "(slope 0 ± 0.2): second-order Wilks terms tilt it by ≲ 0.03 and small-k points carry "
    "χ²-sized spread. Flat in d: |slope| ≤ 0.05, as in DFREE. Noiseless PCA exact: "
    "sin θ_max ≤ 1e-9 (rounding ~1e-15). A check whose interval is wider than twice its "
    "tolerance is INCONCLUSIVE.")


def _setting(num_steps: int) -> rx.Setting:
    return rx.Setting.of(make_design(_DESIGN, two_phase(num_steps, c0=_C0, c1=_C1)))


def _mean_estimate(values: FloatArray, method: str) -> Estimate:
    return Estimate(value=float(values.mean()),
                    stderr=float(values.std(ddof=1) / math.sqrt(values.size)),
                    method=method, error_kind=ErrorKind.STDERR)


def _param_count(k: int) -> int:
    """Parameters of a k-dimensional Gaussian: mean and symmetric covariance."""
    return k + k * (k + 1) // 2


def _paired_slope(x: FloatArray, values: FloatArray, confidence: float = 0.95) -> LineFit:
    """Mean of per-draw log-log slopes (rows of ``values``: one draw over the grid ``x``)
    with a Student-t interval over draws: the right error for common random numbers."""
    log_x = np.log(x)
    centred = log_x - log_x.mean()
    logs = np.log(values)
    slopes = (logs - logs.mean(axis=1, keepdims=True)) @ centred / float(centred @ centred)
    r = slopes.size
    common: dict[str, Any] = {"confidence": confidence, "chi2": None, "birge_ratio": None,
                              "points_used": tuple(range(x.size)), "excluded": (),
                              "exclusion_reasons": ()}
    if r < 2 or not np.all(np.isfinite(slopes)):
        return LineFit(usable=False, slope=None, intercept=None, slope_stderr=None, ci_low=None,
                       ci_high=None, dof=max(r - 1, 0), ci_method="none",
                       note="fewer than 2 draws or a non-positive value", **common)
    mean = float(slopes.mean())
    stderr = float(slopes.std(ddof=1) / math.sqrt(r))
    half = float(stats.t.ppf(0.5 * (1.0 + confidence), r - 1)) * stderr
    intercept = float(np.mean(logs.mean(axis=1)) - mean * log_x.mean())
    return LineFit(usable=True, slope=mean, intercept=intercept, slope_stderr=stderr,
                   ci_low=mean - half, ci_high=mean + half, dof=r - 1,
                   ci_method="t over per-draw slopes (paired draws)", **common)


def _text(fit: LineFit) -> str:
    if not fit.usable or fit.slope is None:
        return "no fit"
    return f"{fit.slope:.3f} [{fit.ci_low:.3f}, {fit.ci_high:.3f}]"


def _combine(verdicts: list[Verdict]) -> Verdict:
    if any(v is Verdict.FAIL for v in verdicts):
        return Verdict.FAIL
    if verdicts and all(v is Verdict.PASS for v in verdicts):
        return Verdict.PASS
    return Verdict.INCONCLUSIVE


class _Collector:
    """Accumulates verdicts, fits, points and notes of one check run."""

    def __init__(self, estimator: str) -> None:
        self.estimator = estimator
        self.verdicts: dict[str, Verdict] = {}
        self.fits: dict[str, Any] = {}
        self.points: list[MeasuredPoint] = []
        self.lines: list[str] = []
        self.sines: list[float] = []

    def judge(self, name: str, fit: LineFit, *, predicted: float, tolerance: float,
              extra: dict[str, Any] | None = None) -> None:
        verdict = judge_slope(fit, predicted=predicted, kind="two_sided", tolerance=tolerance)
        self.verdicts[name] = verdict
        self.fits[name] = {"raw": fit.to_dict(), "predicted": predicted, "tolerance": tolerance,
                           "verdict": verdict.value, **(extra or {})}
        self.lines.append(f"{name}: {_text(fit)} (predicted {predicted:g} ± {tolerance:g}) → "
                          f"{verdict.value}")


def _n_sweep(ctx: CheckContext, out: _Collector, grid: dict[str, Any],
             setting: rx.Setting, *, bias: float = 0.0, repeat_divisor: int = 1) -> None:
    """KL and TV against n; ``bias`` ≠ 0 biases the fitted latent mean by ``bias·n^-0.4``."""
    design = setting.design
    d, k = int(grid["d_gauss"]), _MEAN.size
    ns = np.array(grid["n"], dtype=float)
    floor = rx.gaussian_floor(mean=_MEAN, cov=_COV, design=design)
    kl_means, tv_means = [], []
    for i, n in enumerate(grid["n"]):
        fits = rx.gaussian_latent_fits(
            mean=_MEAN, cov=_COV, ambient_dim=d, num_samples=int(n), setting=setting,
            estimator=out.estimator, rng=ctx.point_rng(100 + i),
            num_repeats=int(grid["repeats_n"]) // repeat_divisor, num_mc=int(grid["mc"]),
            basis_seed=7, mean_bias=bias * float(n) ** _BOUNDARY_BIAS_POWER)
        out.sines += [f.sin_theta for f in fits]
        method = f"mean over {len(fits)} independent sample draws ± stderr"
        kl = _mean_estimate(np.array([f.kl for f in fits]), method)
        tv = _mean_estimate(np.array([f.tv for f in fits]), method)
        kl_k = _mean_estimate(np.array([f.kl_subspace for f in fits]), method)
        kl_means.append(kl)
        tv_means.append(tv)
        wilks = Estimate(value=kl_k.value * 2 * n / _param_count(k),
                         stderr=kl_k.stderr * 2 * n / _param_count(k), method=method,
                         error_kind=ErrorKind.STDERR)
        out.points.append(MeasuredPoint(
            params={"sweep": "n", "n": int(n), "k": k, "d": d, "T": design.num_steps,
                    "estimator": out.estimator, "n (swept)": int(n)},
            estimates={"kl": kl, "tv": tv, "kl_subspace": kl_k, "wilks_ratio": wilks,
                       "kl_orthogonal": _mean_estimate(np.array([f.kl_orthogonal for f in fits]),
                                                       method)}))
    out.judge("KL vs n", fit_slope(ns, [e.value for e in kl_means], [e.stderr for e in kl_means],
                                   floor=floor).raw,
              predicted=-1.0, tolerance=N_SLOPE_TOL, extra={"floor_exact_score_kl": floor})
    out.judge("TV vs n", fit_slope(ns, [e.value for e in tv_means],
                                   [e.stderr for e in tv_means]).raw,
              predicted=-0.5, tolerance=N_SLOPE_TOL)
    ratio = kl_means[-1].value / floor if floor > 0 else math.inf
    out.lines.append(f"exact-score KL floor at T = {design.num_steps}: {floor:.3g} "
                     f"(smallest measured KL is {ratio:.3g}× the floor)")


def _k_sweep(ctx: CheckContext, out: _Collector, grid: dict[str, Any],
             setting: rx.Setting) -> None:
    design = setting.design
    d, n = int(grid["d_gauss"]), int(grid["n_k"])
    ks = np.array(grid["k"], dtype=float)
    scaled = []
    for i, k in enumerate(grid["k"]):
        mean = 0.5 * np.cos(np.arange(k))
        cov = np.diag(np.linspace(0.5, 1.5, k)) if k > 1 else np.array([[1.0]])
        fits = rx.gaussian_latent_fits(
            mean=mean, cov=cov, ambient_dim=d, num_samples=n, setting=setting,
            estimator=out.estimator, rng=ctx.point_rng(200 + i),
            num_repeats=int(grid["repeats_k"]), num_mc=int(grid["mc"]), basis_seed=11)
        out.sines += [f.sin_theta for f in fits]
        method = f"mean over {len(fits)} independent sample draws ± stderr"
        kl = _mean_estimate(np.array([f.kl for f in fits]), method)
        p = _param_count(int(k))
        per_param = Estimate(value=kl.value / p, stderr=kl.stderr / p, method=method,
                             error_kind=ErrorKind.STDERR)
        scaled.append(per_param)
        out.points.append(MeasuredPoint(
            params={"sweep": "k", "n": n, "k": int(k), "d": d, "T": design.num_steps,
                    "estimator": out.estimator, "latent_parameters": p},
            estimates={"kl": kl, "kl_per_parameter": per_param,
                       "wilks_ratio": Estimate(value=kl.value * 2 * n / p,
                                               stderr=kl.stderr * 2 * n / p, method=method,
                                               error_kind=ErrorKind.STDERR)}))
    out.judge("KL/p_k vs k", fit_slope(ks, [e.value for e in scaled],
                                       [e.stderr for e in scaled]).raw,
              predicted=0.0, tolerance=K_SLOPE_TOL)


def _gaussian_d_sweep(ctx: CheckContext, out: _Collector, grid: dict[str, Any],
                      setting: rx.Setting) -> None:
    """Gaussian latent (k = 2) in every d: the same draws (one generator per draw, reused for
    each d) give paired values; many cheap draws pin the control's growth down."""
    design = setting.design
    dims = tuple(int(d) for d in grid["dims_gauss"])
    n = int(grid["n_k"])
    rows = [rx.gaussian_latent_fits(
        mean=_MEAN, cov=_COV, ambient_dim=d, num_samples=n, setting=setting,
        estimator=out.estimator, rng=ctx.point_rng(500), num_repeats=int(grid["repeats_d"]),
        num_mc=int(grid["mc"]), basis_seed=17 + j) for j, d in enumerate(dims)]
    _judge_d(out, "Gaussian latent", dims, [list(r) for r in zip(*rows, strict=True)])
    method = f"mean over {len(rows[0])} draws ± stderr (draws shared by every d)"
    for d, fits in zip(dims, rows, strict=True):
        out.sines += [f.sin_theta for f in fits]
        out.points.append(_d_point(d, n, _MEAN.size, design.num_steps, out.estimator,
                                   "Gaussian latent", fits, method))


def _d_point(d: int, n: int, k: int, num_steps: int, estimator: str, latent: str,
             fits: list[rx.FitResult], method: str) -> MeasuredPoint:
    return MeasuredPoint(
        params={"sweep": f"d ({latent})", "n": n, "k": k, "d": d, "T": num_steps,
                "estimator": estimator, "curve": f"{estimator}, {latent}", "d (swept)": d},
        estimates={"kl": _mean_estimate(np.array([f.kl for f in fits]), method),
                   "tv": _mean_estimate(np.array([f.tv for f in fits]), method),
                   "kl_orthogonal": _mean_estimate(np.array([f.kl_orthogonal for f in fits]),
                                                   method)})


def _judge_d(out: _Collector, latent: str, dims: tuple[int, ...],
             draws: list[list[rx.FitResult]]) -> None:
    x = np.array(dims, dtype=float)
    for metric in ("kl", "tv"):
        values = np.array([[getattr(f, metric) for f in draw] for draw in draws])
        out.judge(f"{metric.upper()} vs d ({latent})", _paired_slope(x, values), predicted=0.0,
                  tolerance=D_SLOPE_TOL,
                  extra={"max_over_min_per_draw": [float(v.max() / v.min()) for v in values]})


def _mixture_d_sweep(ctx: CheckContext, out: _Collector, grid: dict[str, Any]) -> None:
    setting = _setting(int(grid["T_mix"]))
    design = setting.design
    dims = tuple(int(d) for d in grid["dims"])
    weights, means, variances = _MIX
    draws = []
    for r in range(int(grid["repeats_mix"])):
        sweep = rx.mixture_d_sweep(
            weights=weights, means=means, variances=variances, dims=dims,
            num_samples=int(grid["n_mix"]), num_components=weights.size, setting=setting,
            estimator=out.estimator, rng=ctx.point_rng(300 + r), num_mc=int(grid["mc"]))
        draws.append([sweep[d] for d in dims])
    _judge_d(out, "mixture latent, EM", dims, draws)
    deviation = max(f.fit_deviation for draw in draws for f in draw)
    out.lines.append(
        f"mixture d sweep: the EM fits from the data in R^d agree across d to {deviation:.1e} "
        f"(relative; rotation equivariance), so the k-part grid is shared when within "
        f"{rx.FIT_AGREEMENT_TOL:g} — d enters only through PCA, EM's input and the orthogonal "
        "part, all recomputed at every d")
    if out.estimator == "ambient":
        out.lines.append(f"mixture d sweep: {len(draws)} paired draws (each needs a grid "
                         "propagation) resolve the control's slope only to about ±0.1, hence "
                         f"INCONCLUSIVE there; the {grid['repeats_d']}-draw Gaussian sweep "
                         "decides")
    method = f"mean over {len(draws)} draws ± stderr (draws shared by every d)"
    for j, d in enumerate(dims):
        fits = [draw[j] for draw in draws]
        out.sines += [f.sin_theta for f in fits]
        out.points.append(_d_point(d, int(grid["n_mix"]), 1, design.num_steps, out.estimator,
                                   "mixture latent, EM", fits, method))


def _noiseless_angles(out: _Collector) -> None:
    worst = max(out.sines) if out.sines else math.inf
    verdict = Verdict.PASS if worst <= rx.ANGLE_EXACT_TOL else Verdict.FAIL
    out.verdicts["noiseless PCA exact"] = verdict
    out.fits["noiseless PCA exact"] = {"max_sin_theta": worst, "num_fits": len(out.sines),
                                       "tolerance": rx.ANGLE_EXACT_TOL, "verdict": verdict.value}
    out.lines.append(f"noiseless data: max sin θ_max over {len(out.sines)} PCA fits = "
                     f"{worst:.2g} (≤ {rx.ANGLE_EXACT_TOL:g}) → {verdict.value}")


def _noisy_angles(ctx: CheckContext, out: _Collector, grid: dict[str, Any]) -> None:
    method = "mean sin θ_max over repeated draws ± stderr"
    curves: dict[str, tuple[list[float], list[Estimate]]] = {"n": ([], []), "d": ([], [])}
    n_fixed = int(grid["angle_n"][len(grid["angle_n"]) // 2])
    jobs = [("n", int(n), int(grid["angle_d"])) for n in grid["angle_n"]] + [
        ("d", n_fixed, int(d)) for d in grid["angle_dims"]]
    for i, (sweep, n, d) in enumerate(jobs):
        sines = rx.noisy_pca_angles(mean=_MEAN, cov=_COV, ambient_dim=d, num_samples=n,
                                    noise_std=_NOISE_STD, rng=ctx.point_rng(400 + i),
                                    num_repeats=int(grid["repeats_angle"]), basis_seed=13)
        est = _mean_estimate(sines, method)
        curves[sweep][0].append(n if sweep == "n" else d)
        curves[sweep][1].append(est)
        out.points.append(MeasuredPoint(
            params={"sweep": f"noisy PCA vs {sweep}", "n": n, "k": _MEAN.size, "d": d,
                    "noise_std": _NOISE_STD, "estimator": "pca",
                    f"{sweep} (noisy PCA)": n if sweep == "n" else d},
            estimates={"sin_theta": est}))
    xs, ests = curves["n"]
    out.judge("noisy PCA sin θ vs n", fit_slope(xs, [e.value for e in ests],
                                                [e.stderr for e in ests]).raw,
              predicted=-0.5, tolerance=ANGLE_SLOPE_TOL)
    xs, ests = curves["d"]
    fit_d = fit_slope(np.array(xs, float) - _MEAN.size, [e.value for e in ests],
                      [e.stderr for e in ests])
    out.fits["noisy PCA sin θ vs d - k (reported, not judged)"] = {"raw": fit_d.raw.to_dict(),
                                                                    "expected": 0.5}
    out.lines.append(f"noisy PCA sin θ vs d - k (reported): {_text(fit_d.raw)}, first-order "
                     "theory 1/2 — observation noise in all d directions costs sqrt(d - k); "
                     "the noiseless data of the claim do not have it")


def _plots() -> list[dict[str, Any]]:
    def spec(name: str, y: str, x: str, series: str, slope: float | None, label: str,
             control: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"name": name, "title": f"RECOVER: {y} against {x}", "x": x,
                               "y": y, "series": series, "xlabel": x, "ylabel": y,
                               "logx": True, "logy": True, "include_control": control}
        if slope is not None:
            out["reference"] = {"slope": slope, "label": label}
        return out

    return [spec("kl-vs-n", "kl", "n (swept)", "estimator", -1.0, "1/n (parametric)", True),
            spec("tv-vs-n", "tv", "n (swept)", "estimator", -0.5, "n^-1/2", True),
            spec("kl-vs-d", "kl", "d (swept)", "curve", 0.0, "flat in d", True),
            spec("kl-per-parameter-vs-k", "kl_per_parameter", "k", "estimator", 0.0,
                 "KL ∝ p_k", True),
            spec("sin-theta-vs-n", "sin_theta", "n (noisy PCA)", "sweep", -0.5, "n^-1/2",
                 False)]


def _check(ctx: CheckContext) -> CheckOutcome:
    grid = _GRID[ctx.profile]
    control = ctx.variant is Variant.CONTROL
    out = _Collector("ambient" if control else "structured")
    gauss = _setting(int(grid["T_gauss"]))
    if ctx.variant is Variant.BOUNDARY:
        return _boundary(ctx, out, grid, gauss)
    _n_sweep(ctx, out, grid, gauss)
    _k_sweep(ctx, out, grid, gauss)
    _gaussian_d_sweep(ctx, out, grid, gauss)
    _mixture_d_sweep(ctx, out, grid)
    _noiseless_angles(out)
    if control:
        out.lines.append("noisy-PCA angle rate: not rerun — both estimators take Û from the same "
                         "PCA, so it is the same measurement (see the claim's run)")
    else:
        _noisy_angles(ctx, out, grid)
    verdict = _combine(list(out.verdicts.values()))
    failed = [name for name, v in out.verdicts.items() if v is not Verdict.PASS]
    who = ("ambient estimator (orthogonal score fitted as a full Gaussian)" if control
           else "structured estimator (PCA + EM mixture + -(I-ÛÛᵀ)x/(1-ᾱ_t))")
    summary = (f"{who}: {len(out.verdicts)} checks, "
               + (f"not PASS: {', '.join(failed)}" if failed else "all PASS")
               + f" → {verdict.value}")
    headline = "; ".join(line for line in out.lines if line.startswith(("KL vs", "KL/p_k")))
    notes = [
        *out.lines,
        "KL is KL(p_X1 ‖ p_Y1) (target after one noise step vs sampler output, DDPM posterior "
        "variance, two-phase (2, 4)); TV by Monte Carlo under p_Y1 with exact densities "
        "(standard errors in the points). n and k sweeps: Gaussian latent, exact linear chain; "
        "d sweep: two-component mixture latent fitted by EM, grid quadrature of the k-part, "
        "exact orthogonal part.",
        "Rates here are parametric (correct latent model family): faster than Chen et al.'s "
        "nonparametric n^{-(2-2δ)/(k+5)} upper bound, hence consistent with it."]
    return CheckOutcome(verdict=verdict, summary=summary, measured=headline or summary,
                        points=tuple(out.points), fits=out.fits,
                        details={"plots": _plots(), "notes": notes})


def _boundary(ctx: CheckContext, out: _Collector, grid: dict[str, Any],
              gauss: rx.Setting) -> CheckOutcome:
    """The n sweep with the mean-biased estimator (``_BOUNDARY_BIAS·n^-0.4``)."""
    _n_sweep(ctx, out, grid, gauss, bias=_BOUNDARY_BIAS,
             repeat_divisor=_BOUNDARY_REPEAT_DIVISOR)
    verdict = _combine(list(out.verdicts.values()))
    who = (f"structured estimator with its latent mean biased by {_BOUNDARY_BIAS:g}·"
           f"n^{_BOUNDARY_BIAS_POWER:g} (KL ∝ n^-0.8)")
    summary = f"{who}: n sweep only, {len(out.verdicts)} checks → {verdict.value}"
    headline = "; ".join(line for line in out.lines if line.startswith("KL vs"))
    return CheckOutcome(verdict=verdict, summary=summary, measured=headline or summary,
                        points=tuple(out.points), fits=out.fits,
                        details={"plots": _plots(), "notes": out.lines})


def _claim() -> Claim:
    return Claim(
        id="RECOVER",
        title="Score estimated from n samples: the subspace is recovered, the error depends on "
              "k and n, not on d",
        source=Source(paper="Chen, Huang, Zhao & Wang (ICML 2023)", arxiv="2302.07194",
                      location="distribution-recovery theorem (Thm 3 as recalled, numbering "
                               "not re-verified); the score decomposition behind their network"),
        statement=("With the score estimated from n samples of data on an unknown k-dimensional "
                   "subspace of R^d — subspace by PCA, on-subspace law by an EM Gaussian mixture, "
                   "orthogonal part -(I-ÛÛᵀ)x/(1-ᾱ_t) — the sampler's output error is governed "
                   "by n and k only: the subspace is recovered exactly from noiseless data "
                   "(at rate n^-1/2 under observation noise), KL falls like 1/n and TV like "
                   "n^-1/2, KL scales with the latent parameter count p_k, and both are flat "
                   "in d."),
        latex=(r"\sin\theta_{\max} = 0,\quad \mathrm{KL}(p_{X_1}\|p_{Y_1}) \approx "
               r"\frac{p_k}{2n},\quad \mathrm{TV} \propto n^{-1/2},\quad "
               r"\partial_{\log d}\log \mathrm{KL} = 0"),
        quantity=("TV(p_X1, p_Y1) and KL(p_X1 ‖ p_Y1) of the full d-dimensional output with the "
                  "estimated score, means over independent sample draws ± stderr; sin θ_max "
                  "between the PCA and the true subspace"),
        prediction=Prediction(
            kind="two_sided", value=0.0, tolerance=D_SLOPE_TOL, rationale=_RATIONALE,
            description=(f"slope in d 0 ± {D_SLOPE_TOL:g}; KL slope in n -1 ± {N_SLOPE_TOL:g}, "
                         f"TV slope in n -1/2 ± {N_SLOPE_TOL:g}; KL/p_k slope in k 0 ± "
                         f"{K_SLOPE_TOL:g}; noiseless sin θ_max ≤ {rx.ANGLE_EXACT_TOL:g}; "
                         f"noisy-PCA sin θ slope in n -1/2 ± {ANGLE_SLOPE_TOL:g}")),
        grids={p: (f"n ∈ {g['n']} ({g['repeats_n']} draws each, k = 2, d = {g['d_gauss']}, "
                   f"T = {g['T_gauss']}); k ∈ {g['k']} (n = {g['n_k']}, {g['repeats_k']} "
                   f"draws); d ∈ {g['dims_gauss']} (Gaussian latent k = 2, n = {g['n_k']}, "
                   f"{g['repeats_d']} paired draws) and d ∈ {g['dims']} (mixture latent k = 1, "
                   f"EM, n = {g['n_mix']}, {g['repeats_mix']} paired draws, T = {g['T_mix']}); "
                   f"noisy PCA n ∈ "
                   f"{g['angle_n']} at d = {g['angle_d']}, τ = {_NOISE_STD:g}, "
                   f"{g['repeats_angle']} draws; {g['mc']} Monte Carlo draws per TV")
               for p, g in _GRID.items()},
        negative_control=("the ambient estimator: the orthogonal part of the score fitted as a "
                          "full (d-k)-dimensional Gaussian from the same n samples (sample-"
                          "covariance noise in every direction) — same check, must FAIL"),
        boundary_control=(f"a score estimator converging just slower than parametric: the "
                          f"structured one with its latent mean biased by {_BOUNDARY_BIAS:g}·"
                          f"n^{_BOUNDARY_BIAS_POWER:g}, so KL ∝ n^-0.8 (+ p_k/2n); the n sweep "
                          f"(1/{_BOUNDARY_REPEAT_DIVISOR} of the draws) must FAIL KL slope -1 ± "
                          f"{N_SLOPE_TOL:g}; measured slope ≈ -0.83; resolution: a KL slope ≈ "
                          "-0.86 (bias 2·n^-0.4) FAILs on 3/3 seeds, -0.88 (1.5·n^-0.4) on 1/3 "
                          "(quick)"),
        check=_check)


def register(registry: Any) -> None:
    """Register RECOVER."""
    registry.register(_claim())
