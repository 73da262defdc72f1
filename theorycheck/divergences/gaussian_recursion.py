"""Exact output law of any linear sampler on a one-component Gaussian target on a subspace.

For ``X_0 = U Z``, ``Z ~ N(μ, Σ)`` in R^k (Σ PSD, singular allowed), write ``Σ = V Λ Vᵀ`` and
``c = Vᵀμ``.  In the eigen-coordinates ``z_i = (VᵀUᵀx)_i`` the forward marginal is a product of
``N(sqrt(ᾱ_t) c_i, s_{t,i})``, ``s_{t,i} = ᾱ_t λ_i + (1-ᾱ_t)``, so the exact score is linear and
diagonal, ``-(z_i - sqrt(ᾱ_t) c_i)/s_{t,i}``, and every design of the generic sampler
``Y_{t-1} = (Y_t + η_t s_t(Y_t) + σ_t Z_t)/sqrt(α_t)`` keeps ``Y_t`` Gaussian and diagonal in
those coordinates.  From ``Y_T ~ N(0, I)`` (mean ``m_T = 0``, variance ``v_T = 1``), for
``t = T..2``::

    f_t     = (s_t - η_t)/s_t
    m_{t-1} = (f_t m_t + η_t sqrt(ᾱ_t) c / s_t) / sqrt(α_t)
    v_{t-1} = (f_t² v_t + σ_t²) / α_t

in mpmath at the schedule's precision (``s_t - η_t`` and ``v_1/s_1 - 1`` cancel in float64 when
``1-ᾱ_t`` is ~T^{-c0}).  ``λ = 0``, ``c = 0`` is the data-free recursion of
:func:`theorycheck.split.orthogonal_variance`.  In the standardised coordinates of ``p_{X_1}``
each coordinate is ``N(0, 1)`` against the output's ``N(δ_i, 1+ε_i)`` with
``ε_i = v_{1,i}/s_{1,i} - 1`` and ``δ_i = (m_{1,i} - sqrt(ᾱ_1) c_i)/sqrt(s_{1,i})``; the
orthogonal complement adds ``m = d - k`` coordinates with ``(δ, ε) = (0, e_1)``.

References
----------
Pierret & Galerne (2024), arXiv:2405.14250 (exact Gaussian errors of diffusion samplers);
Li & Yan (2024), arXiv:2405.14861, Fig. 1 setting (N(0, I_k) data).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
from numpy.typing import NDArray

from theorycheck._validation import check_choice, check_int, check_real, check_rng
from theorycheck.designs import CoefficientDesign
from theorycheck.divergences import chisq_mixture, gaussian
from theorycheck.errors import InvalidParameterError
from theorycheck.results import ErrorKind, Estimate
from theorycheck.targets import SubspaceGaussianMixture

__all__ = ["GaussianOutput", "gaussian_output", "gaussian_kl", "gaussian_tv",
           "MC_RELATIVE_LIMIT"]

FloatArray = NDArray[np.float64]
#: Monte Carlo TV is only a forced cross-check (``method="monte_carlo"``), flagged when its
#: standard error exceeds this fraction of the value (the issue's bar for an acceptable Monte Carlo answer).
MC_RELATIVE_LIMIT = 0.01
_GL_PANELS = 64  # composite Gauss-Legendre panels over ±14 sd for a 1-D mean-shifted coordinate


@dataclass(frozen=True, kw_only=True)
class GaussianOutput:
    """Per eigen-coordinate errors of the output ``N(δ_i, 1+ε_i)`` against ``N(0, 1)``.

    Attributes
    ----------
    eigenvalues : ndarray, shape (k,)
        ``λ_i`` of the data covariance (0 for singular directions).
    relative_variance_error : ndarray, shape (k,)
        ``ε_i`` (rounded from its mpmath value).
    standardized_mean_error : ndarray, shape (k,)
        ``δ_i``; exactly 0 when the data mean is 0 in that coordinate.
    orthogonal_relative_error : float
        ``e_1`` of the data-free coordinates.
    eps_mp, delta_mp, orthogonal_mp : tuple of mpf / mpf
        The same at the schedule's precision (used for the closed-form KL).
    dps : int
    """

    eigenvalues: FloatArray = field(repr=False)
    relative_variance_error: FloatArray
    standardized_mean_error: FloatArray
    orthogonal_relative_error: float
    eps_mp: tuple[Any, ...] = field(repr=False)
    delta_mp: tuple[Any, ...] = field(repr=False)
    orthogonal_mp: Any = field(repr=False)
    dps: int

    @property
    def intrinsic_dim(self) -> int:
        """k."""
        return int(self.eigenvalues.size)


def _recursion(design: CoefficientDesign, lam: float, c: float) -> tuple[Any, Any]:
    """``(ε, δ)`` of one eigen-coordinate (data variance ``lam``, data mean ``c``), in mpmath."""
    schedule = design.schedule
    betas = schedule.mp_one_minus_alpha()
    qs = schedule.mp_one_minus_alpha_bar()
    abars = schedule.mp_alpha_bar()
    with mpmath.workdps(schedule.dps):
        lam_mp, c_mp = mpmath.mpf(lam), mpmath.mpf(c)
        mean, var = mpmath.mpf(0), mpmath.mpf(1)
        for t in range(schedule.num_steps, 1, -1):
            eta, sigma_sq = design.mp_coefficients(t)
            s = abars[t - 1] * lam_mp + qs[t - 1]
            f = (s - eta) / s
            root_alpha = mpmath.sqrt(1 - betas[t - 1])
            if c_mp != 0:
                mean = (f * mean + eta * mpmath.sqrt(abars[t - 1]) * c_mp / s) / root_alpha
            var = (f * f * var + sigma_sq) / (1 - betas[t - 1])
        s1 = abars[0] * lam_mp + qs[0]
        eps = var / s1 - 1
        delta = (mean - mpmath.sqrt(abars[0]) * c_mp) / mpmath.sqrt(s1)
        return eps, delta


def gaussian_output(target: SubspaceGaussianMixture, design: CoefficientDesign
                    ) -> GaussianOutput:
    """Run the exact mean/variance recursion for a one-component Gaussian target.

    Parameters
    ----------
    target : SubspaceGaussianMixture
        One component (``num_components == 1``), any mean, any PSD covariance, any d.
    design : CoefficientDesign
        Any design (stochastic or deterministic).

    Returns
    -------
    GaussianOutput

    Raises
    ------
    InvalidParameterError
        Not a one-component SubspaceGaussianMixture, or not a CoefficientDesign.

    Notes
    -----
    Cost ``O(T)`` mpmath operations per distinct ``(λ_i, c_i)`` pair (about 10 ms at T = 1000),
    independent of d.  See the module docstring for the recursion.
    """
    if not isinstance(design, CoefficientDesign):
        raise InvalidParameterError(
            f"`design` must be a CoefficientDesign (got {type(design).__name__})")
    if not isinstance(target, SubspaceGaussianMixture) or target.num_components != 1:
        raise InvalidParameterError(
            "`target` must be a one-component SubspaceGaussianMixture for the Gaussian closed "
            f"form (got {type(target).__name__})")
    cov = np.asarray(target.covariances[0], dtype=np.float64)
    lam, vecs = np.linalg.eigh(0.5 * (cov + cov.T))
    scale = max(float(np.max(np.abs(lam))), 0.0)
    lam = np.where(np.abs(lam) <= 1e-12 * scale, 0.0, lam)  # same rule as the target's storage
    coeffs = vecs.T @ np.asarray(target.means[0], dtype=np.float64)
    cache: dict[tuple[float, float], tuple[Any, Any]] = {}
    eps_mp, delta_mp = [], []
    for lam_i, c_i in zip(lam.tolist(), coeffs.tolist(), strict=True):
        key = (lam_i, c_i)
        if key not in cache:
            cache[key] = _recursion(design, lam_i, c_i)
        eps_mp.append(cache[key][0])
        delta_mp.append(cache[key][1])
    orth_eps, _ = _recursion(design, 0.0, 0.0)
    return GaussianOutput(eigenvalues=lam,
                          relative_variance_error=np.array([float(e) for e in eps_mp]),
                          standardized_mean_error=np.array([float(e) for e in delta_mp]),
                          orthogonal_relative_error=float(orth_eps), eps_mp=tuple(eps_mp),
                          delta_mp=tuple(delta_mp), orthogonal_mp=orth_eps,
                          dps=design.schedule.dps)


def _kl_terms(eps: Any, delta: Any, direction: str) -> Any:
    """One coordinate's KL in mpmath: ``N(0,1)`` vs ``N(δ, 1+ε)`` (see :func:`gaussian_kl`)."""
    log1pmx = mpmath.log1p(eps) - eps
    if direction == "target_to_model":
        return (log1pmx + (eps * eps + delta * delta) / (1 + eps)) / 2
    return (delta * delta - log1pmx) / 2


def gaussian_kl(out: GaussianOutput, ambient_dim: int, *, direction: str = "target_to_model"
                ) -> tuple[Estimate, Estimate]:
    """Exact ``(KL_subspace, KL_orthogonal)`` in either direction.

    Parameters
    ----------
    out : GaussianOutput
    ambient_dim : int
        d >= k; the complement has ``m = d - k`` coordinates.
    direction : {"target_to_model", "model_to_target"}
        ``KL(p_X1 ‖ p_Y1)`` or ``KL(p_Y1 ‖ p_X1)``.

    Returns
    -------
    tuple of Estimate
        Both ``ErrorKind.EXACT``; the total is their sum (KL of a product adds).

    Notes
    -----
    Per coordinate, ``KL(N(0,1) ‖ N(δ,1+ε)) = ½[log(1+ε) - ε + (ε² + δ²)/(1+ε)]`` and
    ``KL(N(δ,1+ε) ‖ N(0,1)) = ½[ε - log(1+ε) + δ²]``, summed in mpmath.
    """
    k = out.intrinsic_dim
    d = check_int("ambient_dim", ambient_dim, minimum=k)
    if direction not in ("target_to_model", "model_to_target"):
        raise InvalidParameterError("`direction` must be 'target_to_model' or 'model_to_target' "
                                    f"(got {direction!r})")
    with mpmath.workdps(out.dps):
        total = mpmath.fsum(_kl_terms(e, dl, direction)
                            for e, dl in zip(out.eps_mp, out.delta_mp, strict=True))
    arrow = "p_X1 ‖ p_Y1" if direction == "target_to_model" else "p_Y1 ‖ p_X1"
    sub = Estimate(value=max(float(total), 0.0), stderr=0.0, error_kind=ErrorKind.EXACT,
                   method=f"exact Gaussian closed form KL({arrow}) from the mpmath mean/variance "
                          "recursion (per eigen-coordinate, summed)")
    m = d - k
    if m == 0:
        return sub, Estimate(value=0.0, stderr=0.0, method="no orthogonal complement (d = k)")
    return sub, gaussian.kl_isotropic(m, out.orthogonal_mp, direction=direction)


def _log_ratio_1d(y: FloatArray, eps: Any, delta: Any) -> FloatArray:
    """``log N(y; 0, 1) - log N(y; δ, 1+ε)`` (target over model), elementwise.

    Written as ``½[log1p(ε) + (δ² - 2yδ - εy²)/(1+ε)]`` so that nothing of size y² cancels
    when ε and δ are small.
    """
    out: FloatArray = 0.5 * (np.log1p(eps) + (delta * delta - 2.0 * y * delta - eps * y * y)
                             / (1.0 + eps))
    return out


def _tv_quadrature_1d(out: GaussianOutput, m: int) -> Estimate:
    """k = 1 with a mean shift: ``E_q[g(p/q)]`` by composite Gauss-Legendre, two panel counts."""
    eps, delta = float(out.relative_variance_error[0]), float(out.standardized_mean_error[0])
    sd = math.sqrt(1.0 + eps)
    values = []
    for panels in (_GL_PANELS, 2 * _GL_PANELS):
        nodes, weights = np.polynomial.legendre.leggauss(12)
        edges = np.linspace(delta - 14 * sd, delta + 14 * sd, panels + 1)
        half = 0.5 * np.diff(edges)
        y = ((edges[:-1] + edges[1:]) / 2)[:, None] + half[:, None] * nodes[None, :]
        w = (half[:, None] * weights[None, :]).ravel()
        y = y.ravel()
        q = np.exp(-0.5 * (y - delta) ** 2 / (1.0 + eps)) / (sd * math.sqrt(2 * math.pi))
        log_c = _log_ratio_1d(y, eps, delta)
        g = (gaussian.orthogonal_tv_factor(log_c, m, out.orthogonal_mp) if m > 0
             else -np.expm1(np.minimum(log_c, 0.0)))
        values.append(float(np.sum(w * q * g)))
    # outside ±14 sd the q-mass is < 2e-44; the two panel counts bound the rule's error
    return Estimate(value=values[1], stderr=abs(values[1] - values[0]) + 1e-16,
                    error_kind=ErrorKind.TOLERANCE,
                    method="exact Gaussian TV, k = 1 mean-shifted: E_q[g(p/q)] with the exact "
                           "chi-square orthogonal factor g, composite Gauss-Legendre (64 vs 128 "
                           "panels); tolerance = |difference|")


def _tv_monte_carlo(out: GaussianOutput, m: int, rng: np.random.Generator,
                    num_samples: int) -> Estimate:
    """Fallback: ``E_q[g(p_k/q_k)]`` over exact Gaussian draws of the k coordinates."""
    eps, delta = out.relative_variance_error, out.standardized_mean_error
    y = delta[None, :] + np.sqrt(1.0 + eps)[None, :] * rng.standard_normal((num_samples, eps.size))
    log_c = np.sum(_log_ratio_1d(y, eps[None, :], delta[None, :]), axis=1)
    g = (gaussian.orthogonal_tv_factor(log_c, m, out.orthogonal_mp) if m > 0
         else -np.expm1(np.minimum(log_c, 0.0)))
    value, stderr = float(g.mean()), float(g.std(ddof=1) / math.sqrt(num_samples))
    flag = "" if stderr <= MC_RELATIVE_LIMIT * value else (
        f"; WARNING standard error above {MC_RELATIVE_LIMIT:.0%} of the value")
    return Estimate(value=value, stderr=stderr, error_kind=ErrorKind.STDERR,
                    method=f"Gaussian TV by Monte Carlo over exact draws of the k coordinates "
                           f"(n={num_samples}) with the exact chi-square orthogonal factor{flag}")


def _imhof_forms(out: GaussianOutput, m: int) -> tuple[Any, float, Any, float] | None:
    """The two centred quadratic forms of ``L = log p/q`` under p and under q.

    Per coordinate, under ``p`` (``y = z``): ``L_i - E_p L_i = w z² - w + 2 a z`` with
    ``w = -ε/(2(1+ε))``, ``a = -δ/(2(1+ε))``; under ``q`` (``y = δ + sqrt(1+ε) z``): ``w = -ε/2``,
    ``a = -δ sqrt(1+ε)/2``.  ``E_p L = KL(p‖q)``, ``E_q L = -KL(q‖p)`` (mpmath), so
    ``P_p(L > 0) = P(Q_p > -KL(p‖q))`` and ``P_q(L > 0) = P(Q_q > KL(q‖p))``.  The ``m``
    orthogonal coordinates are one group (``ν = m``, ``a = 0``).  ``None`` when p = q.
    """
    eps, delta = list(out.eps_mp), list(out.delta_mp)
    dofs = [1.0] * len(eps)
    if m > 0:
        eps.append(out.orthogonal_mp)
        delta.append(mpmath.mpf(0))
        dofs.append(float(m))
    with mpmath.workdps(out.dps):
        kl_pq = mpmath.fsum(n * _kl_terms(e, dl, "target_to_model")
                            for e, dl, n in zip(eps, delta, dofs, strict=True))
        kl_qp = mpmath.fsum(n * _kl_terms(e, dl, "model_to_target")
                            for e, dl, n in zip(eps, delta, dofs, strict=True))
        w_p = [float(-e / (2 * (1 + e))) for e in eps]
        a_p = [float(-dl / (2 * (1 + e))) for e, dl in zip(eps, delta, strict=True)]
        w_q = [float(-e / 2) for e in eps]
        a_q = [float(-dl * mpmath.sqrt(1 + e) / 2) for e, dl in zip(eps, delta, strict=True)]
    if not any(w_p) and not any(a_p):
        return None
    return (chisq_mixture.quadratic_form(w_p, dofs, a_p), -float(kl_pq),
            chisq_mixture.quadratic_form(w_q, dofs, a_q), float(kl_qp))


def _tv_imhof(out: GaussianOutput, m: int, atol: float) -> Estimate:
    """``TV = P_p(L > 0) - P_q(L > 0)``, both tails by Imhof's inversion."""
    forms = _imhof_forms(out, m)
    if forms is None:
        return Estimate(value=0.0, stderr=0.0, error_kind=ErrorKind.EXACT,
                        method="identical Gaussians (ε = δ = 0 in every coordinate)")
    form_p, x_p, form_q, x_q = forms
    sf_p = chisq_mixture.centered_sf(form_p, x_p, atol=atol)
    sf_q = chisq_mixture.centered_sf(form_q, x_q, atol=atol)
    value = sf_p.value - sf_q.value
    return Estimate(value=min(max(value, 0.0), 1.0), stderr=sf_p.stderr + sf_q.stderr,
                    error_kind=ErrorKind.TOLERANCE,
                    method="exact Gaussian TV = P_p(log p/q > 0) - P_q(log p/q > 0), each a "
                           "weighted non-central chi-square tail (orthogonal block one group "
                           "of m dof) by Imhof (1961) inversion; error = truncation bound + "
                           "quad estimates of both tails")


def gaussian_tv(out: GaussianOutput, ambient_dim: int, *,
                rng: np.random.Generator | None = None, num_samples: int = 200_000,
                rtol: float = 1e-10, method: str = "auto", atol: float = 1e-10
                ) -> tuple[Estimate, Estimate, Estimate]:
    """``(TV_total, TV_subspace, TV_orthogonal)`` of the Gaussian output.

    Parameters
    ----------
    out : GaussianOutput
    ambient_dim : int
        d >= k.
    rng : numpy.random.Generator, optional
        Required only by ``method="monte_carlo"``.
    num_samples : int
        Monte Carlo sample size (``method="monte_carlo"`` only).
    rtol : float
        Relative tolerance of the ratio-group quadrature.
    method : {"auto", "imhof", "monte_carlo"}
        ``"auto"`` picks the cheapest exact method below; ``"imhof"`` forces Imhof's inversion
        for every case; ``"monte_carlo"`` the Monte Carlo cross-check.
    atol : float
        Absolute tolerance of each Imhof tail.

    Returns
    -------
    tuple of Estimate

    Notes
    -----
    Method by case for ``"auto"`` (the two laws always have commuting covariances here: every
    design acts diagonally in the data covariance's eigenbasis, see the module docstring):

    * no mean shift, at most 3 distinct ratios ``1+ε`` over all d coordinates: exact
      chi-square / gamma quadrature (:func:`~theorycheck.divergences.gaussian.tv_ratio_groups`);
    * k = 1 = d with a mean shift: the exact 1-D Gaussian TV
      (:func:`~theorycheck.divergences.gaussian.tv_gaussian_1d`);
    * k = 1 < d with a mean shift: ``E_q[g(p/q)]`` by composite Gauss-Legendre at two panel counts,
      ``g`` the exact orthogonal factor;
    * otherwise ``TV = P_p(L > 0) - P_q(L > 0)`` with ``L = log p/q`` a weighted sum of
      non-central chi-squares under either law, each tail by Imhof's (1961) inversion formula
      (:mod:`theorycheck.divergences.chisq_mixture`), error = truncation bound + quad estimates.

    Raises
    ------
    InvalidParameterError
        Bad ``ambient_dim``/``method``/``num_samples``/``atol``, ``method="monte_carlo"``
        without ``rng``, or an Imhof integral that does not converge to ``atol``.
    """
    k = out.intrinsic_dim
    d = check_int("ambient_dim", ambient_dim, minimum=k)
    method = check_choice("method", method, ("auto", "imhof", "monte_carlo"))
    n = check_int("num_samples", num_samples, minimum=100)
    atol = check_real("atol", atol, lower=1e-14)
    m = d - k
    if m > 0:
        tv_perp = gaussian.tv_isotropic(m, out.orthogonal_mp)
    else:
        tv_perp = Estimate(value=0.0, stderr=0.0, method="no orthogonal complement (d = k)")
    if method == "monte_carlo":
        if rng is None:
            raise InvalidParameterError("`rng` must be a numpy.random.Generator when "
                                        "method='monte_carlo' (got None)")
        check_rng("rng", rng)
        total = _tv_monte_carlo(out, m, rng, n)
        sub = _tv_monte_carlo(out, 0, rng, n) if m > 0 else total
        return total, sub, tv_perp
    if method == "imhof":
        total = _tv_imhof(out, m, atol)
        return total, (_tv_imhof(out, 0, atol) if m > 0 else total), tv_perp
    eps = out.relative_variance_error.tolist()
    shifted = bool(np.any(out.standardized_mean_error != 0.0))
    if not shifted:
        groups_sub: dict[float, int] = {}
        for e in eps:
            groups_sub[e] = groups_sub.get(e, 0) + 1
        groups_all = dict(groups_sub)
        if m > 0:
            e_perp = out.orthogonal_relative_error
            groups_all[e_perp] = groups_all.get(e_perp, 0) + m
        if len(groups_all) <= 3:
            tv_sub = gaussian.tv_ratio_groups(list(groups_sub.values()), list(groups_sub),
                                              rtol=rtol)
            total = gaussian.tv_ratio_groups(list(groups_all.values()), list(groups_all),
                                             rtol=rtol)
            return _labelled(total), _labelled(tv_sub), tv_perp
    if k == 1 and m == 0:
        exact = gaussian.tv_gaussian_1d(0.0, 1.0, float(out.standardized_mean_error[0]),
                                        1.0 + float(out.relative_variance_error[0]))
        return _labelled(exact), _labelled(exact), tv_perp
    if k == 1:
        total = _tv_quadrature_1d(out, m)
        sub = _tv_quadrature_1d(out, 0) if m > 0 else total
        return total, sub, tv_perp
    total = _tv_imhof(out, m, atol)
    return total, (_tv_imhof(out, 0, atol) if m > 0 else total), tv_perp


def _labelled(est: Estimate) -> Estimate:
    return Estimate(value=est.value, stderr=est.stderr, error_kind=est.error_kind,
                    method=f"exact Gaussian TV (mpmath recursion): {est.method}")
