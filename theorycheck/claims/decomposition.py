"""Claim DECOMP: the score of data on a subspace splits into an on-subspace part and a linear rest.

Chen, Huang, Zhao & Wang (arXiv:2302.07194): for ``X_0 = U Z`` (U a d × k orthonormal
basis) the score of ``X_t`` is

    ``s*_t(x) = U s^k_t(Uᵀx) - (I - UUᵀ) x / (1-ᾱ_t)``,

with ``s^k_t`` the score of the k-dimensional noisy law of ``Uᵀ X_t``.  The check evaluates both
sides *independently*:

* left: the ambient Gaussian-mixture score computed directly in R^d, component j being
  ``N(sqrt(ᾱ) Uμ_j, C_j)``, ``C_j = ᾱ UΣ_jUᵀ + (1-ᾱ) I_d`` (full d × d solves, log-sum-exp
  responsibilities with ``slogdet``) — no use of the split;
* right: the k-dimensional mixture's score (:meth:`SubspaceGaussianMixture.subspace_part`)
  lifted by U, plus the orthogonal term.

over random targets (k, d, weights, means, covariances, basis), random times and points drawn
from ``p_{X_t}`` (and a few far out).  The maximum relative error must be at rounding level:
``≤ 64·eps·κ`` with κ the largest condition number of the ``C_j`` met (float64 solves lose up
to ``log10 κ`` digits), method "exact, float64 rounding".

Second part: a score *estimated with that structure*, ``ŝ = U ŝ^k(Uᵀx) - (I-UUᵀ)x/(1-ᾱ_t)``
with a deliberately wrong on-subspace part (the score of a mixture with shifted means), has no
error off the subspace: ``‖(I-UUᵀ)(ŝ - s*)‖ / ‖s*‖`` at rounding level, while the on-subspace
error is O(1) (reported).

Negative control: the orthogonal factor is ``(1+δ)/(1-ᾱ_t)``, δ = 1e-3 — both parts must FAIL.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from theorycheck.claims.types import (
    CheckContext,
    CheckOutcome,
    Claim,
    MeasuredPoint,
    Prediction,
    Source,
    Variant,
)
from theorycheck.results import Estimate, Verdict
from theorycheck.schedules import two_phase
from theorycheck.targets import SubspaceGaussianMixture

__all__ = ["ambient_mixture_score", "register"]

FloatArray = NDArray[np.float64]

_EPS = float(np.finfo(np.float64).eps)
#: Rounding allowance in units of eps·κ (a d × d solve and a few sums of ≤ 200 terms).
_ROUNDING_FACTOR = 64.0
_CONTROL_DELTA = 1e-3
#: Boundary control: the same fault a million times smaller, about 10^4 times the rounding
#: allowance 64·eps ≈ 1.4e-14 (times cond(C_j) ≥ 1): the check must still see it.
_BOUNDARY_DELTA = 1e-9
_DELTA = {Variant.CLAIM: 0.0, Variant.CONTROL: _CONTROL_DELTA, Variant.BOUNDARY: _BOUNDARY_DELTA}

_GRIDS: dict[str, dict[str, Any]] = {
    "quick": {"targets": 6, "times": 3, "points": 64},
    "full": {"targets": 24, "times": 6, "points": 256},
}


def ambient_mixture_score(target: SubspaceGaussianMixture, x: FloatArray, *, alpha_bar: float,
                          one_minus_alpha_bar: float) -> tuple[FloatArray, float]:
    """Score of ``X_t`` computed directly in R^d (no subspace split) and the largest cond(C_j).

    Parameters
    ----------
    target : SubspaceGaussianMixture
    x : ndarray, shape (n, d)
    alpha_bar, one_minus_alpha_bar : float

    Returns
    -------
    score : ndarray, shape (n, d)
        ``Σ_j r_j(x) · (-C_j^{-1}(x - sqrt(ᾱ) Uμ_j))``, ``C_j = ᾱ UΣ_jUᵀ + (1-ᾱ) I_d``.
    condition : float
        ``max_j cond(C_j)``.
    """
    basis = target.basis
    d = basis.shape[0]
    logs, grads, cond = [], [], 1.0
    for w, mu, cov in zip(target.weights, target.means, target.covariances, strict=True):
        c = alpha_bar * basis @ cov @ basis.T + one_minus_alpha_bar * np.eye(d)
        c = 0.5 * (c + c.T)
        diff = x - math.sqrt(alpha_bar) * (basis @ mu)[None, :]
        sol = np.linalg.solve(c, diff.T).T
        _, logdet = np.linalg.slogdet(c)
        logs.append(math.log(w) - 0.5 * logdet - 0.5 * np.sum(diff * sol, axis=1))
        grads.append(-sol)
        cond = max(cond, float(np.linalg.cond(c)))
    log_arr = np.stack(logs)
    resp = np.exp(log_arr - np.max(log_arr, axis=0))
    resp /= resp.sum(axis=0)
    return np.einsum("jn,jnd->nd", resp, np.stack(grads)), cond


def _random_target(rng: np.random.Generator) -> SubspaceGaussianMixture:
    k = int(rng.integers(1, 4))
    d = int(rng.integers(k + 1, 24))
    m = int(rng.integers(1, 4))
    weights = rng.dirichlet(np.ones(m))
    means = rng.normal(0.0, 2.0, size=(m, k))
    factors = rng.normal(size=(m, k, k)) * rng.uniform(0.1, 1.0, size=(m, 1, 1))
    covs = factors @ np.swapaxes(factors, 1, 2) + 1e-3 * np.eye(k)
    return SubspaceGaussianMixture.create(weights, means, covs, ambient_dim=d,
                                          basis_seed=int(rng.integers(2**31)))


def _decomposed(target: SubspaceGaussianMixture, sub: SubspaceGaussianMixture, x: FloatArray,
                ab: float, om: float, factor: float) -> FloatArray:
    """``U s^k(Uᵀx) - factor·(I-UUᵀ)x/(1-ᾱ)`` with the k-dimensional score of ``sub``."""
    basis = target.basis
    z = x @ basis
    x_perp = x - z @ basis.T
    sub_score = sub.score(z, alpha_bar=ab, one_minus_alpha_bar=om)
    out: FloatArray = sub_score @ basis.T - factor * x_perp / om
    return out


def _check(ctx: CheckContext) -> CheckOutcome:
    grid = _GRIDS[ctx.profile]
    sched = two_phase(1000)
    factor = 1.0 + _DELTA[ctx.variant]
    points: list[MeasuredPoint] = []
    worst_rel, worst_allowed_ratio, worst_perp, worst_sub = 0.0, 0.0, 0.0, 0.0
    for i in range(grid["targets"]):
        rng = ctx.point_rng(i)
        target = _random_target(rng)
        sub = target.subspace_part()
        wrong = SubspaceGaussianMixture.create(sub.weights, sub.means + 0.5, sub.covariances)
        for t in np.sort(rng.choice(np.arange(1, sched.num_steps + 1), grid["times"],
                                    replace=False)):
            ab, om = float(sched.alpha_bar[t - 1]), float(sched.one_minus_alpha_bar[t - 1])
            x = target.sample_noisy(grid["points"], alpha_bar=ab, one_minus_alpha_bar=om,
                                    rng=rng)
            x[:4] *= 5.0  # a few points far out in the tails
            exact, cond = ambient_mixture_score(target, x, alpha_bar=ab, one_minus_alpha_bar=om)
            split = _decomposed(target, sub, x, ab, om, factor)
            norm = np.maximum(np.linalg.norm(exact, axis=1), 1e-300)
            rel = float(np.max(np.linalg.norm(split - exact, axis=1) / norm))
            allowed = _ROUNDING_FACTOR * _EPS * cond
            estimated = _decomposed(target, wrong, x, ab, om, factor)
            err = estimated - exact
            err_perp = err - (err @ target.basis) @ target.basis.T
            perp = float(np.max(np.linalg.norm(err_perp, axis=1) / norm))
            sub_err = float(np.max(np.linalg.norm(err @ target.basis, axis=1) / norm))
            worst_rel = max(worst_rel, rel)
            worst_allowed_ratio = max(worst_allowed_ratio, rel / allowed, perp / allowed)
            worst_perp, worst_sub = max(worst_perp, perp), max(worst_sub, sub_err)
            method = "exact, float64 rounding"
            points.append(MeasuredPoint(
                params={"target": i, "d": target.ambient_dim, "k": target.intrinsic_dim,
                        "components": target.num_components, "t": int(t), "condition": cond},
                estimates={"max_rel_error": Estimate(value=rel, stderr=0.0, method=method),
                           "allowed": Estimate(value=allowed, stderr=0.0,
                                               method="64·eps·cond(C_j)"),
                           "max_rel_error_off_subspace": Estimate(value=perp, stderr=0.0,
                                                                  method=method),
                           "max_rel_error_on_subspace": Estimate(value=sub_err, stderr=0.0,
                                                                 method=method)}))
    verdict = Verdict.PASS if worst_allowed_ratio <= 1.0 else Verdict.FAIL
    summary = (f"max relative error of the split vs the ambient score {worst_rel:.3g}; "
               f"off-subspace error of the structured (wrong on-subspace) estimate "
               f"{worst_perp:.3g} (its on-subspace error {worst_sub:.3g}); worst error / "
               f"(64·eps·cond) = {worst_allowed_ratio:.3g} over {len(points)} (target, t) pairs")
    return CheckOutcome(
        verdict=verdict, summary=summary,
        measured=f"max rel. error {worst_rel:.2e}, off-subspace {worst_perp:.2e}",
        points=tuple(points), fits={},
        details={"notes": ["Left side computed in R^d without the split (d × d solves); "
                           "allowance 64·eps·cond(C_j) per (target, t); schedule two-phase "
                           "(2, 4), T = 1000, seed index convention."],
                 "plots": _PLOTS})


_PLOTS = [
    {"name": "decomp-error", "title": "Split vs ambient score: max relative error",
     "x": "condition", "y": "max_rel_error", "series": "k", "xlabel": "max cond(C_j)",
     "ylabel": "max relative error", "logx": True, "logy": True},
]


def register(registry: Any) -> None:
    """Register DECOMP."""
    registry.register(Claim(
        id="DECOMP", title="Score decomposition on a subspace (Chen et al. 2023)",
        source=Source(paper="Chen, Huang, Zhao & Wang", arxiv="2302.07194",
                      location="score decomposition (abstract: 'properly chosen network "
                               "architecture')"),
        statement=("The exact score equals U·s^k_t(Uᵀx) - (I-UUᵀ)x/(1-ᾱ_t) to rounding; a score "
                   "built with that structure has no error off the subspace."),
        latex=(r"\nabla\log p_t(x) = U\,s^{k}_t(U^\top x) - \frac{(I-UU^\top)x}{1-\bar\alpha_t}"),
        quantity=("max relative error between the split and the ambient-coordinates mixture "
                  "score (float64), and the off-subspace error of a structured estimate"),
        prediction=Prediction(kind="two_sided", value=0.0, tolerance=_ROUNDING_FACTOR * _EPS,
                              rationale="identity: rounding only, scaled by cond(C_j)",
                              description="every relative error ≤ 64·eps·cond(C_j)"),
        grids={p: (f"{g['targets']} random targets (k ∈ 1..3, d ∈ k+1..23, 1-3 components) × "
                   f"{g['times']} random t of two-phase(2,4) T=1000 × {g['points']} points")
               for p, g in _GRIDS.items()},
        negative_control=(f"orthogonal factor (1+δ)/(1-ᾱ_t), δ = {_CONTROL_DELTA:g}: both the "
                          "identity and the zero off-subspace error must FAIL"),
        boundary_control=(f"the same orthogonal factor with δ = {_BOUNDARY_DELTA:g} (the "
                          "check's resolution is its rounding allowance 64·eps·cond ≈ 1e-14)"),
        check=_check))
