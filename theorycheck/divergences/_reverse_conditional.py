"""Kernels of the path KL (private to :mod:`theorycheck.divergences.path_kl`).

Everything here works in U's frame (subspace coordinates), receives validated inputs and does no
argument checking.  Notation as in :func:`theorycheck.divergences.path_kl.path_kl`: at step t,
``β = 1-α_t``, ``q = 1-ᾱ_t``, ``q' = 1-ᾱ_{t-1}``, component j of the data has covariance
eigenvalues ``λ`` and ``C = ᾱ_t λ + q`` is the matching eigenvalue of its noisy covariance.

After multiplying ``X_{t-1}`` and ``Y_{t-1}`` by ``sqrt(α_t)`` (KL is invariant) and measuring in
units of the model's standard deviation ``σ_t``, component j of the true reverse conditional is
``N(β s_j(x)/σ, ρ_j)`` and the model is ``N(η s(x)/σ, I)`` (up to the common shift ``x/σ``), with

    ρ - 1 = r₀ + (g - 1)(1 + r₀),   r₀ = σ*²/σ² - 1,   g - 1 = λ ᾱ_{t-1} β / (q' C),

``σ*² = β α_t q'/q`` the DDPM posterior variance.  ``g - 1`` is exact algebra
(``q - α_t q' = β``) with no subtraction, and ``r₀`` is a design constant computed in mpmath, so
``ρ - 1`` keeps full relative precision even when ``1-α_t ~ 1e-8``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import mpmath
import numpy as np
from numpy.typing import NDArray

from theorycheck.designs import CoefficientDesign

__all__ = [
    "GH_TARGET",
    "INNER_PAIRS",
    "MIXING_ENTROPY_FLOOR",
    "NEGLIGIBLE_WEIGHT",
    "Components",
    "StepConstants",
    "exact_part",
    "gh_mutual_information",
    "gh_mutual_information_checked",
    "mc_mutual_information",
    "random_part_diagonal",
    "random_part_full",
    "startup_orthogonal",
    "startup_subspace",
    "step_constants",
    "x_minus_log1p",
]

FloatArray = NDArray[np.float64]

#: Antithetic pairs per component and point for the Monte Carlo mutual information (k ≥ 2).
INNER_PAIRS = 4
#: Points whose posterior label entropy ``H(w)`` is below this skip the quadrature: the mutual
#: information lies in ``[0, H(w)]``, and ``H(w)`` is booked as quadrature error.
MIXING_ENTROPY_FLOOR = 1e-15
#: Components whose posterior weight at a point is below this are dropped from that point's
#: quadrature; each changes the mutual information by at most ``2 w (1 + log(1/w))`` (concavity
#: of the entropy), which is booked as quadrature error.  Far, negligible components would
#: otherwise force the finest Gauss–Hermite rules.
NEGLIGIBLE_WEIGHT = 1e-20

_LOG_2PI = math.log(2.0 * math.pi)
_SERIES_TERMS = 30
_SERIES_RADIUS = 0.25


def x_minus_log1p(x: FloatArray | float) -> FloatArray:
    """``φ(x) = x - log(1+x)`` for ``x > -1`` without cancellation near 0.

    For ``|x| < 1/4`` the alternating series ``Σ_{k≥2} (-x)^k/k`` (30 terms, truncation below
    1e-19 relative); elsewhere the direct formula loses at most 3 bits.
    """
    arr = np.asarray(x, dtype=np.float64)
    out = np.empty_like(arr)
    small = np.abs(arr) < _SERIES_RADIUS
    xs = arr[small]
    acc = np.zeros_like(xs)
    for k in range(_SERIES_TERMS + 1, 1, -1):   # Horner on Σ_{k≥2} (-1)^k x^{k-2}/k
        acc = acc * xs + (1.0 if k % 2 == 0 else -1.0) / k
    out[small] = xs * xs * acc
    big = ~small
    out[big] = arr[big] - np.log1p(arr[big])
    return out


@dataclass(frozen=True)
class StepConstants:
    """Per-step floats for t = 2..T (index ``t-2``), the design constants rounded from mpmath.

    ``var_ratio_m1 = σ*²/σ² - 1``; ``bias = (β-η)²/σ²``; ``spread = η(2β-η)/σ²``;
    ``separation = β/σ``; ``orthogonal`` is the exact per-coordinate KL of a data-free
    coordinate, ``φ(r₀)/2 + (β-η)²/(2σ² q)``.
    """

    beta: FloatArray
    alpha_bar: FloatArray
    alpha_bar_prev: FloatArray
    q: FloatArray
    q_prev: FloatArray
    var_ratio_m1: FloatArray
    bias: FloatArray
    spread: FloatArray
    separation: FloatArray
    orthogonal: FloatArray


def step_constants(design: CoefficientDesign) -> StepConstants:
    """Evaluate the design constants in mpmath at the schedule's precision (``σ_t > 0`` assumed)."""
    sched = design.schedule
    betas = sched.mp_one_minus_alpha()
    qs = sched.mp_one_minus_alpha_bar()
    rows: list[tuple[float, float, float, float, float]] = []
    with mpmath.workdps(sched.dps):
        for t in range(2, sched.num_steps + 1):
            beta, q, q_prev = betas[t - 1], qs[t - 1], qs[t - 2]
            eta, sigma_sq = design.mp_coefficients(t)
            posterior = beta * (1 - beta) * q_prev / q
            r0 = (posterior - sigma_sq) / sigma_sq
            bias = (beta - eta) ** 2 / sigma_sq
            with mpmath.workdps(2 * sched.dps):     # φ(r₀) ~ r₀²/2 may be ~1e-90
                phi = r0 - mpmath.log1p(r0)
            rows.append((float(r0), float(bias), float(eta * (2 * beta - eta) / sigma_sq),
                         float(beta / mpmath.sqrt(sigma_sq)), float(phi / 2 + bias / (2 * q))))
    cols = np.asarray(rows, dtype=np.float64).T
    return StepConstants(
        beta=np.array(sched.one_minus_alpha[1:]), alpha_bar=np.array(sched.alpha_bar[1:]),
        alpha_bar_prev=np.array(sched.alpha_bar[:-1]), q=np.array(sched.one_minus_alpha_bar[1:]),
        q_prev=np.array(sched.one_minus_alpha_bar[:-1]), var_ratio_m1=cols[0], bias=cols[1],
        spread=cols[2], separation=cols[3], orthogonal=cols[4])


def startup_orthogonal(design: CoefficientDesign) -> float:
    """``KL(N(0, 1-ᾱ_T) ‖ N(0, 1)) = φ(-ᾱ_T)/2`` for one data-free coordinate, in mpmath."""
    sched = design.schedule
    with mpmath.workdps(2 * sched.dps):
        alpha_bar = sched.mp_alpha_bar()[-1]
        return float((-alpha_bar - mpmath.log(sched.mp_one_minus_alpha_bar()[-1])) / 2)


@dataclass(frozen=True)
class Components:
    """The k-dimensional data law in U's frame.

    ``diagonal``: k independent 1-D mixtures (k = 1 or a product target), arrays ``(k, M)``
    padded with weight 0.  Otherwise one mixture in R^k: ``weights (M, 1)``, ``means (M, k)``,
    ``eigenvalues (M, k)`` and ``eigenvectors (M, k, k)`` of the covariances.
    """

    diagonal: bool
    weights: FloatArray
    log_weights: FloatArray
    means: FloatArray
    eigenvalues: FloatArray
    eigenvectors: FloatArray | None

    @property
    def mixing(self) -> bool:
        """Whether some coordinate block has two components (else the path KL is closed form)."""
        return bool(np.max(np.sum(self.weights > 0, axis=-1 if self.diagonal else 0)) > 1)


def exact_part(comp: Components, c: StepConstants, i: int) -> float:
    """``E_x Σ_j w_j KL(N_j ‖ model)`` minus its spread term, in closed form.

    ``Σ_j π_j [½ Σ_l φ(ρ_jl - 1) + (β-η)²/(2σ²) Σ_l 1/C_jl]``, using
    ``E_x[w_j(x) g(x)] = π_j E[g(X_t) | J = j]`` and ``E[‖s_j‖² | J = j] = tr C_j^{-1}``.
    """
    lam = comp.eigenvalues
    cov = c.alpha_bar[i] * lam + c.q[i]
    rho_m1 = rho_minus_one(lam, cov, c, i)
    return float(np.sum(comp.weights * (0.5 * x_minus_log1p(rho_m1) + 0.5 * c.bias[i] / cov)))


def rho_minus_one(lam: FloatArray, cov: FloatArray, c: StepConstants, i: int) -> FloatArray:
    """``ρ - 1`` (see module notes) for eigenvalues ``lam`` with noisy eigenvalues ``cov``."""
    g_m1 = lam * (c.alpha_bar_prev[i] * c.beta[i]) / (c.q_prev[i] * cov)
    r0 = c.var_ratio_m1[i]
    return r0 + g_m1 * (1.0 + r0)


def _logsumexp(values: FloatArray, axis: int) -> FloatArray:
    top = np.max(values, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    total = np.sum(np.exp(values - top), axis=axis, keepdims=True)
    return np.squeeze(np.log(total) + top, axis=axis)


def _posterior(log_joint: FloatArray, axis: int
               ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Log-responsibilities, responsibilities, their entropy and the log-density (sum over
    ``axis`` of the exponentiated joint)."""
    log_p = _logsumexp(log_joint, axis)
    log_w = log_joint - np.expand_dims(log_p, axis)
    w = np.exp(log_w)
    entropy = -np.sum(w * np.where(w > 0, log_w, 0.0), axis=axis)
    return log_w, w, entropy, log_p


@functools.lru_cache(maxsize=8)
def _gh_rule(nodes: int) -> tuple[FloatArray, FloatArray]:
    """Probabilists' Gauss–Hermite nodes and weights normalised to the N(0, 1) expectation."""
    z, omega = np.polynomial.hermite_e.hermegauss(nodes)
    return z, omega / math.sqrt(2.0 * math.pi)


def _gh_component_terms(own_log_w: FloatArray, own_mean: FloatArray, own_var_m1: FloatArray,
                        log_w: FloatArray, means: FloatArray, var_m1: FloatArray,
                        nodes: int) -> FloatArray:
    """``E_{N_j}[-log(Σ_i w_i N_i / N_j)]`` for tasks (a point and a component j), by
    Gauss–Hermite.

    ``own_*`` are ``(t,)`` arrays of component j; ``log_w, means, var_m1`` are ``(t, M-1)``
    arrays of the other components (``-inf`` log-weight for padding), variances given as
    ``variance - 1`` so that ratios keep full precision.  For node ``z``,
    ``log N_i/N_j = -½ log(v_i/v_j) - d²/(2v_i) - d sqrt(v_j) z/v_i + z² (v_i-v_j)/(2v_i)`` with
    ``d = m_j - m_i``: no large terms cancel, and the ``i = j`` term is exactly ``log w_j``.
    """
    z, omega = _gh_rule(nodes)
    lw_i, mu_i, vm1_i = log_w.T[..., None], means.T[..., None], var_m1.T[..., None]  # (i,t,1)
    inv_vi = 1.0 / (1.0 + vm1_i)
    diff = own_mean[:, None] - mu_i
    const = (lw_i - 0.5 * (np.log1p(vm1_i) - np.log1p(own_var_m1)[:, None])
             - 0.5 * diff * diff * inv_vi)
    slope = -diff * np.sqrt(1.0 + own_var_m1)[:, None] * inv_vi
    curve = 0.5 * (vm1_i - own_var_m1[:, None]) * inv_vi
    own = own_log_w[:, None]
    with np.errstate(invalid="ignore", over="ignore"):
        ell = const + z * (slope + curve * z)                                   # (i, t, Q)
        top = np.maximum(np.max(ell, axis=0), own)
        total = np.sum(np.exp(ell - top), axis=0) + np.exp(own - top)
    return -((np.log(total) + top) @ omega)


def gh_mutual_information(log_w: FloatArray, means: FloatArray, var_m1: FloatArray,
                          nodes: int) -> FloatArray:
    """``I = Σ_j w_j KL(N_j ‖ Σ_i w_i N_i)`` for 1-D mixtures, row by row, with a fixed rule.

    ``log_w, means, var_m1`` are ``(r, M)`` arrays, M ≥ 2 (``-inf`` log-weight for padding).
    """
    tasks, own, others = _tasks(log_w)
    terms = _gh_component_terms(log_w[tasks, own], means[tasks, own], var_m1[tasks, own],
                                log_w[tasks[:, None], others], means[tasks[:, None], others],
                                var_m1[tasks[:, None], others], nodes)
    return np.asarray(np.bincount(tasks, weights=np.exp(log_w[tasks, own]) * terms,
                                  minlength=log_w.shape[0]), dtype=np.float64)


def _tasks(log_w: FloatArray) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
    """Rows, component j and the other components of every (row, live component) task."""
    size = log_w.shape[1]
    rows, own = np.nonzero(np.isfinite(log_w))
    shift = np.arange(size - 1)[None, :]
    others = shift + (shift >= own[:, None])
    return rows, own, others


#: Gauss–Hermite node counts, each the check rule of the next.  A task (a point and a
#: component) starts at 8, 16, 32 or 64 nodes by its difficulty (separation plus variance
#: mismatch) and moves up while ``w_j |E_fine - E_coarse| > GH_TARGET``.
_GH_LADDER = (4, 8, 16, 32, 64, 128, 256)
_GH_START = ((0.15, 1), (0.5, 2), (1.5, 3), (math.inf, 4))
#: Target of the a-posteriori error estimate of one weighted component term (nats).
GH_TARGET = 1e-9


def gh_mutual_information_checked(log_w: FloatArray, means: FloatArray,
                                  var_m1: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Mutual information per row with an adaptive rule per component, and its error estimate.

    Returns ``Σ_j w_j E_j`` with each ``E_j`` from the finest rule used for it, and
    ``Σ_j w_j |E_j^fine - E_j^coarse|``, which over-estimates the error (Gauss–Hermite
    converges geometrically for these analytic integrands; the rate degrades with the component
    separation in standard deviations and with the variance ratio, which set the start rule).
    """
    tasks, own, others = _tasks(log_w)
    args = (log_w[tasks, own], means[tasks, own], var_m1[tasks, own],
            log_w[tasks[:, None], others], means[tasks[:, None], others],
            var_m1[tasks[:, None], others])
    weight = np.exp(args[0])
    live = np.isfinite(args[3])
    log_sd = 0.5 * np.log1p(np.where(live, args[5], args[2][:, None]))
    gap = np.max(np.where(live, np.abs(args[4] - args[1][:, None]), 0.0), axis=1)
    difficulty = (gap * np.exp(-np.minimum(np.min(log_sd, axis=1), 0.5 * np.log1p(args[2])))
                  + 8.0 * np.max(np.abs(log_sd - 0.5 * np.log1p(args[2])[:, None]), axis=1))
    level = np.full(tasks.size, _GH_START[-1][1])
    for bound, start in reversed(_GH_START):
        level[difficulty <= bound] = start
    value, coarse = np.zeros(tasks.size), np.zeros(tasks.size)
    error = np.where(weight > 0, np.inf, 0.0)   # an underflowed weight contributes nothing

    def evaluate(sel: NDArray[np.intp], nodes: int) -> FloatArray:
        return _gh_component_terms(args[0][sel], args[1][sel], args[2][sel], args[3][sel],
                                   args[4][sel], args[5][sel], nodes)

    for _, start in _GH_START:
        sel = np.flatnonzero(level == start)
        if sel.size:
            coarse[sel] = evaluate(sel, _GH_LADDER[start - 1])
    for rung in range(1, len(_GH_LADDER)):
        sel = np.flatnonzero((level == rung) & (weight * error > GH_TARGET))
        if sel.size:
            fine = evaluate(sel, _GH_LADDER[rung])
            value[sel], error[sel] = fine, np.abs(fine - coarse[sel])
            coarse[sel] = fine
            level[sel] = np.minimum(rung + 1, len(_GH_LADDER) - 1)
    rows = log_w.shape[0]
    return (np.asarray(np.bincount(tasks, weights=weight * value, minlength=rows), float),
            np.asarray(np.bincount(tasks, weights=weight * error, minlength=rows), float))


def mc_mutual_information(log_w: FloatArray, means: FloatArray, var_m1: FloatArray,
                          vecs: FloatArray, normals: FloatArray) -> FloatArray:
    """Monte Carlo ``I = Σ_j w_j E_{N_j}[log N_j - log Σ_i w_i N_i]`` for mixtures in R^k.

    ``log_w (r, M)``, ``means (r, M, k)``, covariance ``V_j diag(1 + var_m1_j) V_jᵀ`` with
    ``var_m1 (M, k)``, ``vecs (M, k, k)``; ``normals (r, M, L, k)`` are used with their
    antithetic mirror.  Returns one unbiased estimate per row.  For a draw
    ``y = m_j + V_j sd_j ξ``: ``V_iᵀ(y - m_i) = V_iᵀ(m_j - m_i) + (V_iᵀ V_j diag(sd_j)) ξ``, and
    the ``i = j`` log-ratio is exactly 0.
    """
    size = log_w.shape[1]
    var = 1.0 + var_m1
    sd = np.sqrt(var)
    log_det = np.sum(np.log1p(var_m1), axis=1)                          # (M,)
    xi = np.concatenate([normals, -normals], axis=2)                    # (r, M, P, k)
    half_sq = 0.5 * np.sum(xi * xi, axis=-1)                            # (r, M, P)
    w = np.exp(log_w)
    info = np.zeros(log_w.shape[0])
    for j in range(size):
        terms = [np.broadcast_to(log_w[:, j, None], half_sq[:, j].shape)]
        for i in range(size):
            if i == j:
                continue
            mix = (vecs[i].T @ vecs[j]) * sd[j]                          # V_iᵀ V_j diag(sd_j)
            coords = ((means[:, j] - means[:, i]) @ vecs[i])[:, None, :] + xi[:, j] @ mix.T
            quad = (coords * coords) @ (1.0 / var[i])                   # (r, P)
            terms.append(log_w[:, i, None] - 0.5 * (log_det[i] - log_det[j]) - 0.5 * quad
                         + half_sq[:, j])
        stacked = np.stack(terms)
        with np.errstate(invalid="ignore"):
            per_draw = -_logsumexp(stacked, axis=0)                       # (r, P)
        info += np.where(w[:, j] > 0, w[:, j] * np.mean(per_draw, axis=1), 0.0)
    return info


def random_part_diagonal(comp: Components, c: StepConstants, i: int, x: FloatArray
                         ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per point and coordinate, ``x (n, k)``: ``R = ½ spread Var_w(s) - I(x)``, its quadrature
    error and ``log p_t`` of the coordinate, each ``(n, k)``.

    ``Var_w(s) = ½ Σ_{a,b} w_a w_b (s_a - s_b)²`` is the label-posterior variance of the
    component scores (pairwise form: a sum of non-negative terms).
    """
    lam, mu = comp.eigenvalues, comp.means                                # (k, M)
    cov = c.alpha_bar[i] * lam + c.q[i]
    resid = x[:, :, None] - math.sqrt(c.alpha_bar[i]) * mu               # (n, k, M)
    scores = -resid / cov
    log_joint = comp.log_weights - 0.5 * (_LOG_2PI + np.log(cov) + resid * resid / cov)
    log_w, w, entropy, log_p = _posterior(log_joint, axis=2)
    ds = scores[..., :, None] - scores[..., None, :]
    spread = 0.25 * np.einsum("nka,nkb,nkab->nk", w, w, ds * ds) * c.spread[i]
    info = np.zeros_like(entropy)
    error = np.where(entropy > MIXING_ENTROPY_FLOOR, 0.0, entropy)
    rows = np.nonzero(entropy > MIXING_ENTROPY_FLOOR)
    if rows[0].size:
        rho_m1 = rho_minus_one(lam, cov, c, i)[rows[1]]
        sep = c.separation[i] * scores[rows]
        w_rows = w[rows]
        dropped = np.isfinite(log_w[rows]) & (w_rows < NEGLIGIBLE_WEIGHT)
        pruning = np.sum(np.where(dropped, 2 * w_rows * (1 - np.where(
            dropped, log_w[rows], 0.0)), 0.0), axis=1)
        log_w_rows = np.where(dropped, -np.inf, log_w[rows])
        info[rows], error[rows] = gh_mutual_information_checked(log_w_rows, sep, rho_m1)
        error[rows] += pruning
    return spread - info, error, log_p


def random_part_full(comp: Components, c: StepConstants, i: int, x: FloatArray,
                     rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """Per point ``x (n, k)``: ``½ spread Var_w(s) - Î(x)`` with a Monte Carlo ``Î`` (k ≥ 2),
    and ``log p_t(x)``."""
    assert comp.eigenvectors is not None
    lam, mu, vecs = comp.eigenvalues, comp.means, comp.eigenvectors     # (M,k), (M,k), (M,k,k)
    cov = c.alpha_bar[i] * lam + c.q[i]
    resid = x[:, None, :] - math.sqrt(c.alpha_bar[i]) * mu               # (n, M, k)
    eig_resid = np.einsum("nmk,mkl->nml", resid, vecs)
    scores = -np.einsum("nml,mkl->nmk", eig_resid / cov, vecs)
    log_joint = comp.log_weights[:, 0] - 0.5 * np.sum(
        _LOG_2PI + np.log(cov) + eig_resid * eig_resid / cov, axis=-1)
    log_w, w, entropy, log_p = _posterior(log_joint, axis=1)
    ds = scores[:, :, None, :] - scores[:, None, :, :]
    spread = 0.25 * np.einsum("na,nb,nab->n", w, w, np.sum(ds * ds, axis=-1)) * c.spread[i]
    info = np.zeros_like(entropy)
    rows = np.flatnonzero(entropy > MIXING_ENTROPY_FLOOR)
    if rows.size:
        normals = rng.standard_normal((rows.size, *mu.shape[:1], INNER_PAIRS, mu.shape[1]))
        info[rows] = mc_mutual_information(log_w[rows], c.separation[i] * scores[rows],
                                           rho_minus_one(lam, cov, c, i), vecs, normals)
    return spread - info, log_p


def startup_subspace(comp: Components, alpha_bar: float, num_samples: int,
                     rng: np.random.Generator) -> tuple[float, float, float]:
    """``KL(p_{X_T} ‖ N(0, I_k))`` on the subspace: ``(value, MC stderr, quadrature error)``.

    ``Σ_j π_j [½ Σ_l φ(ᾱ_T(λ_jl - 1)) + ᾱ_T ‖μ_j‖²/2] - I(J; X_T)``.
    """
    var_m1 = alpha_bar * (comp.eigenvalues - 1.0)                        # C - 1, no cancellation
    closed = float(np.sum(comp.weights * (0.5 * x_minus_log1p(var_m1)
                                          + 0.5 * alpha_bar * comp.means ** 2)))
    if not comp.mixing:
        return closed, 0.0, 0.0
    means = math.sqrt(alpha_bar) * comp.means
    if comp.diagonal:
        info, error = gh_mutual_information_checked(comp.log_weights, means, var_m1)
        return closed - float(np.sum(info)), 0.0, float(np.sum(error))
    assert comp.eigenvectors is not None
    normals = rng.standard_normal((num_samples, *comp.means.shape[:1], 1, comp.means.shape[1]))
    rows = np.broadcast_to(means, (num_samples, *means.shape))
    log_w = np.broadcast_to(comp.log_weights[:, 0], (num_samples, means.shape[0]))
    info = mc_mutual_information(log_w, rows, var_m1, comp.eigenvectors, normals)
    return (closed - float(np.mean(info)), float(np.std(info, ddof=1) / math.sqrt(num_samples)),
            0.0)
