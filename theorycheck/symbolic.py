"""Symbolic derivation (sympy) of the one-step variance condition of diffusion samplers.

This is the only module of :mod:`theorycheck` that imports :mod:`sympy`; the package's
``__init__`` does not import it, so sympy is loaded only when this module is used.

Everything below is *derived* from the definitions, not typed in:

* the sampler step ``Y_{t-1} = (Y_t + η_t s_t(Y_t) + σ_t Z)/sqrt(α_t)`` and the exact score
  ``s_t(y) = -y/(1-ᾱ_t)`` of a coordinate orthogonal to the data give the variance map;
* dividing its value at ``v = 1-ᾱ_t`` by the true variance ``1-ᾱ_{t-1} = 1-ᾱ_t/α_t`` gives the
  ratio ``R_t``; the only formula typed in is one-step bracket, which the tests compare with
  ``R_t - 1``;
* the coefficient designs (docs/theory.md §3) are substituted and the results simplified after the
  change of variables ``ᾱ = 1-q``, ``α = 1-q(1-r²)`` (``q, r > 0``; ``q, r ∈ (0, 1)`` covers
  exactly ``0 < ᾱ < α < 1``), in which ``r = sqrt((α-ᾱ)/(1-ᾱ))`` is a symbol and all square
  roots are exact; results are then rewritten in ``u = (1-α)/(1-ᾱ) = 1-r²``.

Names of the symbols: ``alpha`` (α_t), ``alpha_bar`` (ᾱ_t), ``eta`` (η_t), ``sigma_sq`` (σ_t²),
``v`` (Var Y_t), ``e`` (relative variance error), ``u`` and ``eta_ddim`` (Song et al.'s η).

References
----------
.. [1] Y. Liang, Z. Huang, Y. Chen, "Low-dimensional adaptation of diffusion models:
   convergence in total variation", arXiv:2501.12982 (the one-step lower bound,
   docs/theory.md §4.1).
.. [2] G. Li, Y. Yan, "Adapting to unknown low-dimensional structures in score-based diffusion
   models", arXiv:2405.14861 (uniqueness of the DDPM coefficient design).
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from theorycheck._validation import check_choice, check_finite_array, check_int
from theorycheck.errors import InvalidParameterError, NonFiniteError

__all__ = [
    "BACKENDS",
    "DESIGNS",
    "SERIES_ORDER",
    "NumericFunction",
    "SymbolicResult",
    "derive_all",
    "latex_table",
    "r_function",
    "r_minus_one_function",
    "rho_function",
    "variance_map_function",
    "zero_set_sigma_sq_function",
]

DESIGNS: tuple[str, ...] = ("ddpm_posterior", "ddpm_beta", "ddim", "ddim_eta", "pf_euler")
BACKENDS: tuple[str, ...] = ("mpmath", "numpy")
#: Small-u series are exact through u**(SERIES_ORDER-1); the remainder is O(u**SERIES_ORDER).
SERIES_ORDER = 5

_ALPHA = sp.Symbol("alpha", positive=True)
_ALPHA_BAR = sp.Symbol("alpha_bar", positive=True)
_ETA = sp.Symbol("eta", real=True)
_SIGMA_SQ = sp.Symbol("sigma_sq", nonnegative=True)
_V = sp.Symbol("v", positive=True)
_E = sp.Symbol("e", real=True)
_U = sp.Symbol("u", positive=True)
_ETA_DDIM = sp.Symbol("eta_ddim", nonnegative=True)
_Q = sp.Symbol("q", positive=True)  # 1 - alpha_bar (helper of the derivation only)
_R = sp.Symbol("r", positive=True)  # sqrt((alpha - alpha_bar)/(1 - alpha_bar)) (helper only)

_SYMBOL_ORDER = (_ALPHA, _ALPHA_BAR, _ETA, _SIGMA_SQ, _V, _E, _U, _ETA_DDIM)
_LATEX_NAMES = {
    _ALPHA: r"\alpha_t", _ALPHA_BAR: r"\bar\alpha_t", _ETA: r"\eta_t",
    _SIGMA_SQ: r"\sigma_t^2", _V: "v_t", _E: "e_t", _U: "u_t",
    _ETA_DDIM: r"\eta_{\mathrm{DDIM}}",
}


@dataclass(frozen=True, kw_only=True)
class SymbolicResult:
    """One derived formula.

    Parameters
    ----------
    name : str
        Key of the result in :func:`derive_all`.
    expression : sympy.Expr
        The derived expression (series are stored without their order term).
    latex : str
        LaTeX of the expression (series include their ``O(u^n)`` term).
    symbols : tuple of str
        Names of the free symbols, in the canonical order ``alpha, alpha_bar, eta, sigma_sq,
        v, e, u, eta_ddim``; these are the keywords :meth:`evaluate` takes.
    description : str
        What the formula is and how it was obtained.
    """

    name: str
    expression: sp.Expr
    latex: str
    symbols: tuple[str, ...]
    description: str

    def evaluate(self, *, dps: int | None = None, **values: Any) -> mpmath.mpf:
        """Evaluate with mpmath at the current precision, or at ``dps`` digits if given.

        Every name of :attr:`symbols` must be given as a keyword, and no other.
        """
        if set(values) != set(self.symbols):
            raise InvalidParameterError(
                f"`values` must give exactly the symbols {self.symbols} of {self.name!r} "
                f"(got {tuple(sorted(values))})")
        func = _lambdified(self.expression, self.symbols, "mpmath")
        with mpmath.workdps(_dps_or_current(dps)):
            args = [_to_mpf(name, values[name]) for name in self.symbols]
            return mpmath.mpf(func(*args))


def _dps_or_current(dps: int | None) -> int:
    return int(mpmath.mp.dps) if dps is None else check_int("dps", dps, minimum=1)


def _to_mpf(name: str, value: Any) -> mpmath.mpf:
    if isinstance(value, bool) or not isinstance(value, numbers.Real | mpmath.mpf):
        raise InvalidParameterError(f"`{name}` must be a real number (got {value!r})")
    out = mpmath.mpf(value)
    if not mpmath.isfinite(out):
        raise NonFiniteError(f"`{name}` must be finite (got {out})")
    return out


def _names(expression: sp.Expr) -> tuple[str, ...]:
    free = expression.free_symbols
    return tuple(s.name for s in _SYMBOL_ORDER if s in free)


def _result(name: str, expression: sp.Expr, description: str, *,
            latex_of: sp.Expr | None = None) -> SymbolicResult:
    latex = sp.latex(expression if latex_of is None else latex_of, symbol_names=_LATEX_NAMES)
    return SymbolicResult(name=name, expression=expression, latex=latex,
                          symbols=_names(expression), description=description)


def _design_coefficients() -> dict[str, tuple[sp.Expr, sp.Expr]]:
    """``(η_t, σ_t²)`` of each design, as defined in docs/theory.md §3 (definitions, not results)."""
    a, ab, eta_ddim = _ALPHA, _ALPHA_BAR, _ETA_DDIM
    r = sp.sqrt((a - ab) / (1 - ab))
    posterior_sigma_sq = (1 - a) * (a - ab) / (1 - ab)
    ddim_eta_sigma_sq = eta_ddim**2 * posterior_sigma_sq
    return {
        "ddpm_posterior": (1 - a, posterior_sigma_sq),
        "ddpm_beta": (1 - a, 1 - a),
        "ddim": ((1 - a) / (1 + r), sp.Integer(0)),
        "ddim_eta": ((1 - ab) - sp.sqrt((1 - ab) * (a - ab - ddim_eta_sigma_sq)),
                     ddim_eta_sigma_sq),
        "pf_euler": ((1 - a) / 2, sp.Integer(0)),
    }


def _in_u(expression: sp.Expr) -> sp.Expr:
    """Simplify an expression in (α, ᾱ, ...) and rewrite it in u = (1-α)/(1-ᾱ).

    Through ᾱ = 1-q, α = 1-q(1-r²) with positive q, r the square roots of the designs are
    exact (sqrt(r²) = r); then r = sqrt(1-u).  Raises if α or ᾱ survive the rewriting.
    """
    in_qr = sp.simplify(expression.subs({_ALPHA: 1 - _Q * (1 - _R**2), _ALPHA_BAR: 1 - _Q}))
    out = sp.factor(sp.simplify(in_qr.subs(_R, sp.sqrt(1 - _U))))
    if out.free_symbols & {_ALPHA, _ALPHA_BAR, _Q, _R}:
        raise RuntimeError(f"could not rewrite {expression} in u (got {out})")
    return out


def _from_u(expression: sp.Expr) -> sp.Expr:
    return expression.subs(_U, (1 - _ALPHA) / (1 - _ALPHA_BAR))


@functools.lru_cache(maxsize=1)
def _derive() -> dict[str, SymbolicResult]:
    a, ab, eta, sigma_sq, v, e = _ALPHA, _ALPHA_BAR, _ETA, _SIGMA_SQ, _V, _E
    out: dict[str, SymbolicResult] = {}

    def add(name: str, expression: sp.Expr, description: str, **kw: Any) -> None:
        out[name] = _result(name, expression, description, **kw)

    # One step on a data-free coordinate is affine in Y_t: gain * Y_t + sigma * Z / sqrt(alpha).
    y = sp.Symbol("y", real=True)
    score = -y / (1 - ab)
    gain = sp.diff((y + eta * score) / sp.sqrt(a), y)
    variance_map = gain**2 * v + sigma_sq / a
    add("variance_map", variance_map,
        "Var(Y_{t-1}) given Var(Y_t) = v on a coordinate orthogonal to the data, where the "
        "exact score is -y/(1-alpha_bar_t): ((1-eta/(1-alpha_bar))^2 v + sigma^2)/alpha.")
    true_variance = sp.together(1 - ab / a)  # 1 - alpha_bar_{t-1}, alpha_bar_{t-1} = ab/a
    ratio = sp.simplify(variance_map.subs(v, 1 - ab) / true_variance)
    add("R", ratio,
        "R_t = Var(Y_{t-1} | v = 1-alpha_bar_t) / (1-alpha_bar_{t-1}): the factor by which one "
        "step multiplies the variance of a data-free coordinate relative to the truth.")
    bracket = (1 - ab) / (a - ab) * (1 - eta / (1 - ab))**2 + sigma_sq / (a - ab) - 1
    add("R_minus_one_bracket", bracket,
        "The bracket of Liang-Huang-Chen's one-step lower bound (arXiv:2501.12982), typed from the "
        "paper; the tests verify that it equals R_t - 1.")

    coefficients = _design_coefficients()
    for design, (design_eta, design_sigma_sq) in coefficients.items():
        add(f"eta[{design}]", design_eta, f"eta_t of the {design} design (definition).")
        add(f"sigma_sq[{design}]", design_sigma_sq,
            f"sigma_t^2 of the {design} design (definition).")
        r_minus_one = _in_u((ratio - 1).subs({eta: design_eta, sigma_sq: design_sigma_sq}))
        add(f"R_minus_one[{design}]", r_minus_one,
            f"R_t - 1 for {design}, derived by substitution and rewritten in "
            "u = (1-alpha_t)/(1-alpha_bar_t).")

    # Zero set: R is affine in sigma^2 with slope 1/(alpha - alpha_bar) != 0, so for each eta
    # there is exactly one sigma^2; the solver's single root is checked in the tests.
    (zero_set,) = sp.solve(sp.Eq(ratio, 1), sigma_sq)
    add("zero_set_sigma_sq", sp.apart(zero_set, eta),
        "The sigma_t^2 solving R_t = 1 for given eta_t: (alpha-alpha_bar) - "
        "(1-alpha_bar-eta)^2/(1-alpha_bar) = alpha - 1 + 2 eta - eta^2/(1-alpha_bar); "
        "admissible (>= 0) iff |1-alpha_bar-eta| <= sqrt((1-alpha_bar)(alpha-alpha_bar)).")
    (unique,) = sp.solve(sp.Eq(ratio.subs(eta, 1 - a), 1), sigma_sq)
    add("zero_set_sigma_sq[ddpm]", sp.factor(unique),
        "The unique sigma_t^2 with R_t = 1 once eta_t = 1-alpha_t (Li & Yan's uniqueness): "
        "the DDPM posterior variance (1-alpha)(alpha-alpha_bar)/(1-alpha_bar).")

    # Error propagation: v_t = (1-alpha_bar_t)(1+e_t) gives e_{t-1}, affine in e_t.
    propagated = sp.simplify(variance_map.subs(v, (1 - ab) * (1 + e)) / true_variance - 1)
    add("error_propagation", propagated,
        "e_{t-1} as a function of e_t = v_t/(1-alpha_bar_t) - 1: rho_t e_t + (R_t - 1).")
    rho = sp.factor(sp.diff(propagated, e))
    add("rho[general]", rho,
        "rho_t = d e_{t-1}/d e_t = (1-alpha_bar)(1-eta/(1-alpha_bar))^2/(alpha-alpha_bar).")
    # rho depends on eta only, so both DDPM variants (eta = 1 - alpha) share "rho[ddpm]".
    for key, design, label in (("ddpm", "ddpm_posterior", "eta_t = 1-alpha_t (both DDPMs)"),
                               ("ddim", "ddim", "ddim"), ("ddim_eta", "ddim_eta", "ddim_eta"),
                               ("pf_euler", "pf_euler", "pf_euler")):
        add(f"rho[{key}]", _in_u(rho.subs(eta, coefficients[design][0])),
            f"rho_t for {label}, in u = (1-alpha_t)/(1-alpha_bar_t).")

    for key, source in (("ddpm_beta", "R_minus_one[ddpm_beta]"),
                        ("pf_euler", "R_minus_one[pf_euler]"),
                        ("rho_pf_euler", "rho[pf_euler]")):
        series = sp.series(out[source].expression, _U, 0, SERIES_ORDER)
        add(f"series[{key}]", series.removeO(),
            f"Series of {source} as u -> 0, exact through u^{SERIES_ORDER - 1}; "
            f"remainder O(u^{SERIES_ORDER}).", latex_of=series)
    return out


def derive_all() -> dict[str, SymbolicResult]:
    """Derive every result; the (slow, ~1 s) derivation is cached, the dict is a fresh copy.

    Returns
    -------
    dict of str to SymbolicResult
        Keys: ``"variance_map"``, ``"R"``, ``"R_minus_one_bracket"``,
        ``"R_minus_one[<design>]"``, ``"eta[<design>]"``, ``"sigma_sq[<design>]"`` for each of
        :data:`DESIGNS`, ``"zero_set_sigma_sq"``, ``"zero_set_sigma_sq[ddpm]"``,
        ``"error_propagation"``, ``"rho[general]"``, ``"rho[ddpm]"``, ``"rho[ddim]"``,
        ``"rho[ddim_eta]"``, ``"rho[pf_euler]"``, ``"series[ddpm_beta]"``,
        ``"series[pf_euler]"``, ``"series[rho_pf_euler]"``.

    Notes
    -----
    With u = (1-α)/(1-ᾱ) and r = sqrt((α-ᾱ)/(1-ᾱ)) = sqrt(1-u):

    * Var(Y_{t-1}) = ((1-η/(1-ᾱ))² v + σ²)/α and R = ((1-ᾱ)(1-η/(1-ᾱ))² + σ²)/(α-ᾱ), whose
      R - 1 is the bracket of [1]_.
    * R - 1 = 0 for DDPM-posterior, DDIM and DDIM(η) (every η); u²/(1-u) for DDPM-β;
      u²/(4(1-u)) for probability-flow Euler.
    * R = 1 iff σ² = (α-ᾱ) - (1-ᾱ-η)²/(1-ᾱ); with η = 1-α this is the posterior variance,
      the unique adaptive choice [2]_.
    * e_{t-1} = ρ e_t + (R - 1) with ρ = (1-ᾱ)(1-η/(1-ᾱ))²/(α-ᾱ): 1-u for η = 1-α, 1 for
      DDIM, 1 - η_DDIM² u for DDIM(η), (2-u)²/(4(1-u)) = 1 + u²/(4(1-u)) > 1 for PF-Euler.

    References
    ----------
    .. [1] Liang, Huang & Chen, arXiv:2501.12982 (one-step lower bound).
    .. [2] Li & Yan, arXiv:2405.14861.
    """
    return dict(_derive())


@functools.cache
def _lambdified(expression: sp.Expr, names: tuple[str, ...],
                backend: str) -> Callable[..., Any]:
    by_name = {symbol.name: symbol for symbol in _SYMBOL_ORDER}
    return sp.lambdify([by_name[name] for name in names], expression, modules=backend)


@dataclass(frozen=True, kw_only=True)
class NumericFunction:
    """A derived expression compiled with :func:`sympy.lambdify`, with validated arguments.

    Call it with the arguments named in :attr:`arguments`, positionally.  With backend
    ``"mpmath"`` the arguments may be floats, ints or ``mpmath.mpf``; they are converted to
    ``mpf`` and the result is an ``mpf`` computed at the current precision, or at ``dps``
    digits if the keyword is given (the global precision is never changed).  With backend
    ``"numpy"`` they may be arrays; they broadcast, and the result is float64 (a numpy
    scalar for scalar input).

    Float64 inputs cannot resolve ᾱ near 1: 1-ᾱ and α-ᾱ are formed by subtraction.  When
    1-ᾱ_t is tiny (t near 1 on the theory schedules), pass exact ``mpf`` values instead.
    """

    name: str
    arguments: tuple[str, ...]
    backend: str
    expression: sp.Expr

    def __call__(self, *args: Any, dps: int | None = None) -> Any:
        if len(args) != len(self.arguments):
            raise InvalidParameterError(
                f"`args` must be the {len(self.arguments)} values {self.arguments} of "
                f"{self.name!r} (got {len(args)})")
        func = _lambdified(self.expression, self.arguments, self.backend)
        if self.backend == "numpy":
            if dps is not None:
                raise InvalidParameterError("`dps` applies only to backend 'mpmath' (got "
                                            f"dps={dps!r} with backend 'numpy')")
            arrays = {n: check_finite_array(n, x)
                      for n, x in zip(self.arguments, args, strict=True)}
            _check_domain(arrays)
            shape = np.broadcast(*arrays.values()).shape
            # `+ zeros(shape)` broadcasts constant results (R - 1 = 0) to the input's shape.
            result = np.asarray(func(*arrays.values()), dtype=np.float64) + np.zeros(shape)
            return result[()]
        with mpmath.workdps(_dps_or_current(dps)):
            values = {n: _to_mpf(n, x) for n, x in zip(self.arguments, args, strict=True)}
            _check_domain(values)
            return mpmath.mpf(func(*values.values()))


def _check_domain(values: dict[str, Any]) -> None:
    """Raise unless 0 < alpha_bar < alpha < 1, 0 <= eta_ddim <= 1, sigma_sq >= 0, v >= 0."""
    rules: list[tuple[str, Any, str]] = [
        ("alpha", (values["alpha"] > 0) & (values["alpha"] < 1), "0 < alpha < 1"),
        ("alpha_bar", (values["alpha_bar"] > 0) & (values["alpha_bar"] < values["alpha"]),
         "0 < alpha_bar < alpha"),
    ]
    if "eta_ddim" in values:
        eta_ddim = values["eta_ddim"]
        rules.append(("eta_ddim", (eta_ddim >= 0) & (eta_ddim <= 1), "0 <= eta_ddim <= 1"))
    for name in ("sigma_sq", "v"):
        if name in values:
            rules.append((name, values[name] >= 0, f"{name} >= 0"))
    for name, ok, rule in rules:
        bad = np.flatnonzero(~np.asarray(ok, dtype=bool).ravel())
        if bad.size:
            where = f"first violation at flat index {bad[0]}" if np.ndim(ok) else \
                f"got {values[name]}"
            raise InvalidParameterError(f"`{name}` must satisfy {rule} ({where})")


def _numeric(key: str, arguments: tuple[str, ...], expression: sp.Expr,
             backend: str) -> NumericFunction:
    check_choice("backend", backend, BACKENDS)
    unknown = set(_names(expression)) - set(arguments)
    if unknown:  # internal invariant: every free symbol must be an argument
        raise RuntimeError(f"{key}: free symbols {unknown} are not arguments {arguments}")
    return NumericFunction(name=key, arguments=arguments, backend=backend,
                           expression=expression)


def _design_arguments(design: str) -> tuple[str, ...]:
    check_choice("design", design, DESIGNS)
    return ("alpha", "alpha_bar", "eta_ddim") if design == "ddim_eta" else ("alpha", "alpha_bar")


def r_minus_one_function(design: str, *, backend: str = "mpmath") -> NumericFunction:
    """``R_t - 1`` of a design as a function of ``(alpha, alpha_bar[, eta_ddim])``.

    Built from ``derive_all()[f"R_minus_one[{design}]"]`` with u = (1-α)/(1-ᾱ).  The three
    adaptive designs return exactly 0 (their derived expression is 0).

    Parameters
    ----------
    design : {"ddpm_posterior", "ddpm_beta", "ddim", "ddim_eta", "pf_euler"}
        ``"ddim_eta"`` takes a third argument ``eta_ddim`` in [0, 1] (Song et al.'s η).
    backend : {"mpmath", "numpy"}
    """
    arguments = _design_arguments(design)
    key = f"R_minus_one[{design}]"
    return _numeric(key, arguments, _from_u(_derive()[key].expression), backend)


def rho_function(design: str, *, backend: str = "mpmath") -> NumericFunction:
    """Contraction factor ρ_t of the relative variance error, ``(alpha, alpha_bar[, eta_ddim])``.

    ``e_{t-1} = ρ_t e_t + (R_t - 1)``; both DDPM designs share ρ = 1-u (η = 1-α).
    """
    arguments = _design_arguments(design)
    key = {"ddpm_posterior": "rho[ddpm]", "ddpm_beta": "rho[ddpm]"}.get(design, f"rho[{design}]")
    return _numeric(key, arguments, _from_u(_derive()[key].expression), backend)


def zero_set_sigma_sq_function(*, backend: str = "mpmath") -> NumericFunction:
    """σ_t² solving R_t = 1, as a function of ``(alpha, alpha_bar, eta)``.

    Notes
    -----
    σ² = (α-ᾱ) - (1-ᾱ-η)²/(1-ᾱ); it may be negative (no admissible σ for that η).
    """
    key = "zero_set_sigma_sq"
    return _numeric(key, ("alpha", "alpha_bar", "eta"), _derive()[key].expression, backend)


def variance_map_function(*, backend: str = "mpmath") -> NumericFunction:
    """Var(Y_{t-1}) of a data-free coordinate, ``(alpha, alpha_bar, eta, sigma_sq, v)``.

    Notes
    -----
    Var(Y_{t-1}) = ((1 - η/(1-ᾱ))² v + σ²)/α.
    """
    key = "variance_map"
    return _numeric(key, ("alpha", "alpha_bar", "eta", "sigma_sq", "v"),
                    _derive()[key].expression, backend)


def r_function(*, backend: str = "mpmath") -> NumericFunction:
    """The ratio R_t for arbitrary coefficients, ``(alpha, alpha_bar, eta, sigma_sq)``.

    Notes
    -----
    R = ((1-ᾱ)(1-η/(1-ᾱ))² + σ²)/(α-ᾱ); R - 1 is the bracket of the one-step lower bound in [1]_.

    References
    ----------
    .. [1] Liang, Huang & Chen, arXiv:2501.12982.
    """
    return _numeric("R", ("alpha", "alpha_bar", "eta", "sigma_sq"), _derive()["R"].expression,
                    backend)


_TABLE_ROWS: tuple[tuple[str, str], ...] = (
    ("variance_map", r"$\mathrm{Var}(Y_{t-1})$ given $\mathrm{Var}(Y_t)=v_t$"),
    ("R", "$R_t$"),
    ("R_minus_one_bracket", "$R_t-1$ (one-step bracket, verified equal)"),
    ("R_minus_one[ddpm_posterior]", "$R_t-1$, DDPM posterior variance"),
    ("R_minus_one[ddpm_beta]", r"$R_t-1$, DDPM $\beta$ variance"),
    ("R_minus_one[ddim]", "$R_t-1$, DDIM"),
    ("R_minus_one[ddim_eta]", r"$R_t-1$, DDIM($\eta$), all $\eta\in[0,1]$"),
    ("R_minus_one[pf_euler]", "$R_t-1$, probability-flow Euler"),
    ("zero_set_sigma_sq", r"$\sigma_t^2$ with $R_t=1$"),
    ("zero_set_sigma_sq[ddpm]", r"unique $\sigma_t^2$ with $R_t=1$ at $\eta_t=1-\alpha_t$"),
    ("rho[general]", r"$\rho_t$ in $e_{t-1}=\rho_t e_t+(R_t-1)$"),
    ("rho[ddpm]", r"$\rho_t$, DDPM ($\eta_t=1-\alpha_t$)"),
    ("rho[ddim]", r"$\rho_t$, DDIM"),
    ("rho[ddim_eta]", r"$\rho_t$, DDIM($\eta$)"),
    ("rho[pf_euler]", r"$\rho_t$, probability-flow Euler"),
    ("series[ddpm_beta]", r"$R_t-1$, DDPM $\beta$, $u_t\to0$"),
    ("series[pf_euler]", r"$R_t-1$, PF-Euler, $u_t\to0$"),
    ("series[rho_pf_euler]", r"$\rho_t$, PF-Euler, $u_t\to0$"),
)


def latex_table() -> str:
    """Markdown table of the main derived results, in LaTeX, for reports.

    Here u_t = (1-α_t)/(1-ᾱ_t); rows derived in u state so in their label column.
    """
    results = _derive()
    lines = ["| quantity | derived expression |", "|---|---|"]
    for key, label in _TABLE_ROWS:
        lines.append(f"| {label} | ${results[key].latex}$ |")
    return "\n".join(lines) + "\n"
