"""Exact density of a deterministic sampler's output by change of variables (docs/theory.md §6).

With ``σ_t = 0`` for every ``t ≥ 2`` (DDIM, probability-flow Euler, any deterministic design) the
sampler is a map ``Y_1 = Φ(Y_T)``, ``Φ = φ_2 ∘ ⋯ ∘ φ_T`` with

    φ_t(y) = (y + η_t s_t(y)) / sqrt(α_t),        Dφ_t(y) = (I + η_t ∇s_t(y)) / sqrt(α_t),

so the density of ``Y_1`` is known exactly along every path:

    log q(Y_1) = log N(Y_T; 0, I_k) - Σ_{t=2}^T log det(I + η_t ∇s_t(Y_t))
                 + (k/2) Σ_{t=2}^T log α_t.

For a target on a k-dimensional subspace the sampler acts blockwise (docs/theory.md §5), so the chain is
run in the subspace's coordinates only, with the closed-form Jacobian of the mixture score, and
the ``d - k`` orthogonal coordinates enter through the exact isotropic-Gaussian factor of
:mod:`theorycheck.divergences.gaussian`.  Divergences between ``q = p_{Y_1}`` and the exact
target ``p = p_{X_1}`` are then Monte Carlo averages over the paths, with standard errors.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from theorycheck._validation import check_int, check_rng
from theorycheck.designs import CoefficientDesign
from theorycheck.divergences import gaussian
from theorycheck.errors import InvalidParameterError, NonFiniteError, TheorycheckError
from theorycheck.results import ErrorKind, Estimate
from theorycheck.samplers import DesignSampler
from theorycheck.scores import ExactScore
from theorycheck.split import orthogonal_variance

__all__ = ["FlowSamples", "deterministic_divergences", "flow_log_density"]

FloatArray = NDArray[np.float64]

#: Rows × k of the automatic chunk.  The mixture kernels work on ``(components, rows, k)``
#: arrays; keeping those within the 512 KiB L2 cache of a core is worth ~1.5× (measured at
#: k = 8 with 2 components: 1.0 µs per path and step at 1024 rows, 1.5 µs at 4096).
_CHUNK_ENTRIES = 8192
#: Smallest automatic chunk: below a few hundred rows numpy's per-call overhead dominates.
_MIN_CHUNK = 256
#: Tolerance, in combined standard errors, of the run-time check of the product bracket
#: ``max(TV_k, TV_⊥) <= TV <= TV_k + TV_⊥``; 6 sigma makes a false alarm ~1e-9 per call.
_BRACKET_SIGMAS = 6.0


@dataclass(frozen=True, kw_only=True)
class FlowSamples:
    """Output samples of a deterministic sampler with their exact log-densities.

    Attributes
    ----------
    y1 : ndarray, shape (n, k)
        ``Y_1 = Φ(Y_T)`` for ``n`` independent ``Y_T ~ N(0, I_k)``.
    log_q : ndarray, shape (n,)
        ``log p_{Y_1}(y1)`` by change of variables (exact up to rounding).
    log_p : ndarray, shape (n,)
        ``log p_{X_1}(y1)``, the target at noise level ``(ᾱ_1, 1-ᾱ_1)``.
    """

    y1: FloatArray = field(repr=False)
    log_q: FloatArray = field(repr=False)
    log_p: FloatArray = field(repr=False)

    @property
    def num_samples(self) -> int:
        """``n``."""
        return int(self.log_q.size)

    @property
    def log_ratio(self) -> FloatArray:
        """``log p_{X_1}(y1) - log p_{Y_1}(y1)``, shape (n,)."""
        return self.log_p - self.log_q


def _check_design(design: Any) -> CoefficientDesign:
    if not isinstance(design, CoefficientDesign):
        raise InvalidParameterError(
            f"`design` must be a CoefficientDesign (got {type(design).__name__})")
    if not design.is_deterministic:
        t = int(np.flatnonzero(design.sigma_sq[1:] != 0.0)[0]) + 2
        raise InvalidParameterError(
            f"`design` must be deterministic (sigma_t = 0 for every t >= 2); {design.describe()} "
            f"has sigma_t^2 = {design.sigma_sq[t - 1]:.3g} at t={t}")
    return design


def _flow_chunk(sampler: DesignSampler, score: ExactScore, y_start: FloatArray,
                diagonal: bool, offset: int) -> tuple[FloatArray, FloatArray]:
    """Push one chunk ``Y_T`` (rows ``offset`` onwards of the sample) to ``Y_1``; return it and
    ``Σ_t log det(I + η_t ∇s_t)`` along each path."""
    design = sampler.design
    schedule = design.schedule
    target = score.target
    y = y_start
    rows, k = y.shape
    no_noise = np.zeros_like(y)           # σ_t = 0: the step never reads it
    log_det = np.zeros(rows)
    diag = np.arange(k)
    for t in range(schedule.num_steps, 1, -1):
        eta = float(design.eta[t - 1])
        try:
            s = score(y, t)
            if diagonal:
                # Product target: ∇s_t = diag(s_i'), so det(I + η ∇s) = Π_i (1 + η s_i').
                scaled = eta * target.score_jacobian_diagonal(
                    y, alpha_bar=float(schedule.alpha_bar[t - 1]),
                    one_minus_alpha_bar=float(schedule.one_minus_alpha_bar[t - 1]))
                with np.errstate(invalid="ignore", divide="ignore"):
                    log_abs = np.sum(np.log1p(scaled), axis=1)
                sign = np.where(scaled.min(axis=1) > -1.0, 1.0, -1.0)
            else:
                jac = score.jacobian(y, t)
                jac *= eta
                jac[:, diag, diag] += 1.0
                sign, log_abs = np.linalg.slogdet(jac)
        except NonFiniteError as exc:     # the target names the point; add the step
            raise NonFiniteError(f"change of variables failed at step t={t}: {exc}") from exc
        if not np.all(sign > 0.0):
            i = offset + int(np.flatnonzero(~(sign > 0.0))[0])
            raise NonFiniteError(
                f"the flow map is not invertible at step t={t}: det(I + eta_t grad s_t) <= 0 on "
                f"path {i} (eta_t={eta:.3g}); change of variables needs I + eta_t grad s_t "
                f"positive definite, which eta_t < 1 - alpha_bar_t guarantees")
        log_det += log_abs
        with np.errstate(over="ignore", invalid="ignore"):   # reported just below, with t
            y = sampler.step(y, t, s, no_noise)
        if not (np.all(np.isfinite(y)) and np.all(np.isfinite(log_det))):
            raise NonFiniteError(
                f"non-finite state or log-determinant after the step at t={t} (Y_{t - 1})")
    return y, log_det


def flow_log_density(design: CoefficientDesign, target_k: Any, *, num_samples: int,
                     rng: np.random.Generator, chunk_size: int | None = None,
                     workers: int = 1) -> FlowSamples:
    """Samples of a deterministic sampler's output with their exact log-density.

    Parameters
    ----------
    design : CoefficientDesign
        Deterministic (``σ_t = 0`` for ``t = 2..T``); its schedule fixes ``T`` and ``α_t``.
    target_k : SubspaceGaussianMixture or ProductMixture
        A k-dimensional target (``ambient_dim == intrinsic_dim``), e.g. ``target.subspace_part()``;
        the sampler runs with its exact score.
    num_samples : int
        ``n >= 1`` paths.
    rng : numpy.random.Generator
        The only randomness: ``Y_T`` is drawn once as ``rng.standard_normal((n, k))``, so the
        result does not depend on ``chunk_size``.
    chunk_size : int, optional
        Paths propagated together; memory is ``O(workers · chunk_size · k²)`` plus the
        ``(n, k)`` output, never ``n × k × T``.  Default: ``max(256, 8192 // k)``, cache-sized.
    workers : int
        Threads propagating chunks concurrently (numpy releases the GIL in the array kernels;
        about 1.8× faster with 2 free cores).  Each chunk is a pure function of its rows of
        ``Y_T``, so the result is identical for every ``workers`` and ``chunk_size``.

    Returns
    -------
    FlowSamples
        ``y1 (n, k)``, ``log_q (n,)`` and ``log_p (n,)``.

    Raises
    ------
    InvalidParameterError
        ``design`` stochastic or not a design, ``target_k`` not k-dimensional, bad ``num_samples``
        / ``chunk_size``, ``rng`` not a Generator.
    NonFiniteError
        Naming the step ``t`` at which a state, score or log-determinant became non-finite, or
        at which ``det(I + η_t ∇s_t) <= 0`` (the flow map is not invertible).

    Notes
    -----
    With ``Y_{t-1} = φ_t(Y_t)`` and ``Dφ_t = (I + η_t ∇s_t)/sqrt(α_t)``,

        log q(Y_1) = log N(Y_T; 0, I_k) - Σ_{t=2}^T log det(I + η_t ∇s_t(Y_t))
                     + (k/2) Σ_{t=2}^T log α_t,

    where ``∇s_t`` is the closed-form Hessian of the log-density of the mixture (symmetric), and
    ``log α_t = log1p(-(1-α_t))`` is taken from the exact ``1-α_t`` table.  The formula needs
    ``Φ`` to be one-to-one.  ``sqrt(α_t) φ_t`` is the gradient of ``½‖y‖² + η_t log p_t(y)``,
    whose Hessian is ``I + η_t ∇s_t ⪰ (1 - η_t/(1-ᾱ_t)) I`` for a Gaussian-mixture score
    (every component covariance is ``⪰ (1-ᾱ_t) I``).  DDIM and probability-flow Euler have
    ``η_t < 1-α_t <= 1-ᾱ_t``, so each ``φ_t`` is the gradient of a strongly convex function, a
    diffeomorphism of R^k, and the density formula is exact.  For other (custom) designs the
    sign of every determinant along every path is checked; that is necessary, not sufficient.
    Product targets use the diagonal Jacobian (``O(k)`` per path and step), others
    ``numpy.linalg.slogdet`` on ``(chunk, k, k)`` stacks.

    References
    ----------
    .. [1] G. Li, Y. Wei, Y. Chi, Y. Chen, "A sharp convergence theory for the probability flow
       ODEs of diffusion models", arXiv:2408.02320 (deterministic samplers as maps of
       ``Y_T``; the log-determinant recursion of the density along the path).
    .. [2] J. Song, C. Meng, S. Ermon, "Denoising diffusion implicit models", arXiv:2010.02502.
    .. [3] docs/theory.md §6 (change of variables for the k-dimensional part).
    """
    design = _check_design(design)
    n = check_int("num_samples", num_samples, minimum=1)
    generator = check_rng("rng", rng)
    k = int(getattr(target_k, "intrinsic_dim", -1))
    if not callable(getattr(target_k, "score_jacobian", None)) or k < 1:
        raise InvalidParameterError(
            f"`target_k` must be a SubspaceGaussianMixture or ProductMixture "
            f"(got {type(target_k).__name__})")
    if int(target_k.ambient_dim) != k:
        raise InvalidParameterError(
            f"`target_k` must be k-dimensional, ambient_dim == intrinsic_dim (got "
            f"ambient_dim={target_k.ambient_dim}, intrinsic_dim={k}); pass "
            f"target.subspace_part()")
    if chunk_size is None:
        chunk = max(_MIN_CHUNK, _CHUNK_ENTRIES // k)
    else:
        chunk = check_int("chunk_size", chunk_size, minimum=1)
    schedule = design.schedule
    sampler = DesignSampler(design=design)
    score = ExactScore(target=target_k, schedule=schedule)
    diagonal = callable(getattr(target_k, "score_jacobian_diagonal", None))

    num_workers = check_int("workers", workers, minimum=1)
    y_start = generator.standard_normal((n, k))
    y1 = np.empty_like(y_start)
    log_det = np.empty(n)

    def run(lo: int) -> None:
        hi = min(lo + chunk, n)
        y1[lo:hi], log_det[lo:hi] = _flow_chunk(sampler, score, y_start[lo:hi], diagonal, lo)

    starts = range(0, n, chunk)
    if num_workers == 1 or len(starts) == 1:
        for lo in starts:
            run(lo)
    else:
        with ThreadPoolExecutor(max_workers=num_workers) as pool:
            futures = [pool.submit(run, lo) for lo in starts]
            try:
                for future in futures:   # in order: the first failing chunk's error is raised
                    future.result()
            finally:
                for future in futures:
                    future.cancel()

    log_alpha_sum = float(np.sum(np.log1p(-schedule.one_minus_alpha[1:])))
    log_start = -0.5 * (np.einsum("nk,nk->n", y_start, y_start) + k * math.log(2.0 * math.pi))
    log_q = log_start - log_det + 0.5 * k * log_alpha_sum
    log_p = np.asarray(target_k.log_density(
        y1, alpha_bar=float(schedule.alpha_bar[0]),
        one_minus_alpha_bar=float(schedule.one_minus_alpha_bar[0])), dtype=np.float64)
    for arr in (y1, log_q, log_p):
        arr.setflags(write=False)
    return FlowSamples(y1=y1, log_q=log_q, log_p=log_p)


def _mc_estimate(terms: FloatArray, method: str) -> Estimate:
    """Sample mean of per-path terms with its standard error ``std / sqrt(n)``."""
    return Estimate(value=float(np.mean(terms)),
                    stderr=float(np.std(terms, ddof=1) / math.sqrt(terms.size)),
                    method=method, error_kind=ErrorKind.STDERR)


def _kl_terms(log_ratio: FloatArray) -> tuple[FloatArray, str]:
    """Per-path terms whose mean is ``KL(q‖p)``, and the estimator's name.

    Both ``-log r`` and ``r - 1 - log r`` (``r = p/q``) have mean ``KL(q‖p)`` because
    ``E_q[r] = 1``.  The second is ``>= 0`` and ``O((log r)²)``, so its variance is ``O(KL²)``
    instead of ``O(KL)`` when ``q ≈ p`` (the regime the claims measure); it needs
    ``χ²(p‖q) < ∞``, so when its sample variance is the larger one (heavy tails of ``r``) the
    plain log-ratio is used instead.
    """
    plain = -log_ratio
    with np.errstate(over="ignore"):
        controlled = np.expm1(log_ratio) - log_ratio
    if np.all(np.isfinite(controlled)) and np.var(controlled) <= np.var(plain):
        return controlled, "E_q[r - 1 - log r]"
    return plain, "E_q[log q - log p]"


def deterministic_divergences(design: CoefficientDesign, target: Any, *, num_samples: int,
                              rng: np.random.Generator, ambient_dim: int | None = None,
                              workers: int = 1) -> dict[str, Estimate]:
    """TV and KL between a deterministic sampler's output and the target, in any dimension d.

    Parameters
    ----------
    design : CoefficientDesign
        Deterministic (``σ_t = 0`` for ``t = 2..T``), e.g. ``make_design("ddim", schedule)``.
    target : SubspaceGaussianMixture or ProductMixture
        ``X_0 = U Z`` with ``Z`` in R^k; only ``target.subspace_part()`` is simulated.
    num_samples : int
        ``n >= 2`` paths of the k-dimensional chain.
    rng : numpy.random.Generator
        Passed to :func:`flow_log_density`; the only randomness.
    ambient_dim : int, optional
        d >= k; defaults to ``target.ambient_dim``.  Costs nothing: d enters in closed form.
    workers : int
        Threads for :func:`flow_log_density`; the result does not depend on it.

    Returns
    -------
    dict of str to Estimate
        ``"tv"``, ``"kl"``: the full d-dimensional ``TV(p_{X_1}, p_{Y_1})`` and
        ``KL(p_{Y_1} ‖ p_{X_1})``; ``"tv_subspace"``, ``"kl_subspace"``: the same for the
        k-dimensional parts (Monte Carlo, ``ErrorKind.STDERR``); ``"tv_orthogonal"``,
        ``"kl_orthogonal"``: the ``d - k`` orthogonal coordinates in closed form.

    Raises
    ------
    InvalidParameterError
        Stochastic ``design``, ``num_samples < 2``, ``ambient_dim < k``, ``rng`` not a Generator.
    NonFiniteError
        From :func:`flow_log_density`, naming the step.
    TheorycheckError
        If the estimates break ``max(TV_k, TV_⊥) <= TV <= TV_k + TV_⊥`` by more than 6 combined
        standard errors (a bug, not a sampling fluctuation).

    Notes
    -----
    With ``q = p_{Y_1}``, ``p = p_{X_1}`` and ``r = p_k/q_k`` at the k-dimensional output paths
    (docs/theory.md §5: both laws are products of a k-dimensional part and an isotropic Gaussian on the
    complement, of variances ``v_1`` and ``1-ᾱ_1``, ``e_1 = v_1/(1-ᾱ_1) - 1``):

    * ``TV_k = E_q[(1 - r)_+]`` (a bounded integrand, so its standard error is reliable);
    * ``KL_k = KL(q_k ‖ p_k) = E_q[r - 1 - log r]`` (see :func:`_kl_terms`);
    * ``KL = KL_k + KL_⊥`` exactly, ``KL_⊥ = kl_isotropic(d-k, e_1, "model_to_target")``;
    * ``TV = E_q[g(r)]`` with ``g(c) = E_{q_⊥}[(1 - c p_⊥/q_⊥)_+]`` from
      :func:`~theorycheck.divergences.gaussian.orthogonal_tv_factor`; ``g(c) >= (1 - c)_+``
      (Jensen), and ``g(c) = (1 - c)_+`` when ``d = k`` or ``e_1 = 0``, so then ``TV = TV_k``
      identically on the same paths.

    The KL direction is ``KL(p_{Y_1} ‖ p_{X_1})`` (model to target), an unweighted average over
    the sampler's paths; the other direction, ``E_q[r log r]``, would weight the paths by ``r``
    (heavier tails).  Papers differ in direction and end point (docs/theory.md §8); TV is symmetric.

    References
    ----------
    .. [1] G. Li, Y. Wei, Y. Chi, Y. Chen, arXiv:2408.02320 (DDIM / probability-flow ODE).
    .. [2] docs/theory.md §5 (the exact d-split) and §6 (change of variables).
    """
    design = _check_design(design)
    n = check_int("num_samples", num_samples, minimum=2)
    generator = check_rng("rng", rng)
    k = int(getattr(target, "intrinsic_dim", -1))
    if not callable(getattr(target, "subspace_part", None)) or k < 1:
        raise InvalidParameterError(
            f"`target` must be a SubspaceGaussianMixture or ProductMixture "
            f"(got {type(target).__name__})")
    d = int(target.ambient_dim) if ambient_dim is None else check_int(
        "ambient_dim", ambient_dim, minimum=k)
    m = d - k
    flow = flow_log_density(design, target.subspace_part(), num_samples=n, rng=generator,
                            workers=workers)
    log_ratio = flow.log_ratio
    with np.errstate(over="ignore"):
        tv_terms = np.maximum(-np.expm1(log_ratio), 0.0)     # (1 - r)_+, exact for r ≈ 1
    kl_terms, kl_name = _kl_terms(log_ratio)
    eps = orthogonal_variance(design).relative_error
    if m == 0 or eps == 0.0:
        total_terms = tv_terms
        tv_perp = Estimate(value=0.0, stderr=0.0, method="exact: identical orthogonal parts")
        kl_perp = tv_perp
    else:
        total_terms = np.asarray(gaussian.orthogonal_tv_factor(log_ratio, m, eps), dtype=np.float64)
        tv_perp = gaussian.tv_isotropic(m, eps)
        kl_perp = gaussian.kl_isotropic(m, eps, direction="model_to_target")

    label = f"{design.describe()}, T={design.num_steps}, k={k}, d={d}, n={n}"
    paths = f"change of variables along deterministic paths ({label})"
    tv_k = _mc_estimate(tv_terms, f"TV_k = E_q[(1 - p/q)_+], {paths}")
    kl_k = _mc_estimate(kl_terms, f"KL_k(p_Y1 ‖ p_X1) (model→target) = {kl_name}, {paths}")
    tv = _mc_estimate(total_terms, f"TV = E_q[g(p_k/q_k)] with the exact orthogonal factor g, "
                                   f"{paths}")
    kl = Estimate(value=kl_k.value + kl_perp.value, stderr=kl_k.stderr + kl_perp.stderr,
                  method=f"KL(p_Y1 ‖ p_X1) (model→target) = KL_k + KL_⊥, {paths}",
                  error_kind=ErrorKind.STDERR)
    slack = _BRACKET_SIGMAS * (tv.stderr + tv_k.stderr + tv_perp.stderr) + 1e-12
    lower, upper = gaussian.orthogonal_tv_bounds(tv_k.value, tv_perp.value)
    if not lower - slack <= tv.value <= upper + slack:
        raise TheorycheckError(
            f"TV = {tv.value:.6g} breaks max(TV_k, TV_⊥) <= TV <= TV_k + TV_⊥ with TV_k = "
            f"{tv_k.value:.6g}, TV_⊥ = {tv_perp.value:.6g} beyond {_BRACKET_SIGMAS:g} standard "
            f"errors ({label})")
    return {"tv": tv, "kl": kl, "tv_subspace": tv_k, "kl_subspace": kl_k,
            "tv_orthogonal": tv_perp, "kl_orthogonal": kl_perp}
