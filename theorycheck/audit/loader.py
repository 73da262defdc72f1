"""Resolve a ``TARGET`` string (``module:attr`` or ``path/to/file.py:attr``) to a sampler object.

The named attribute is either an object following the sampler protocol
(:class:`theorycheck.samplers.Sampler`: ``alpha_bar`` of shape (T,) and
``step(y, t, score, noise)``) or a zero-argument callable returning one.  Every failure is a
:class:`~theorycheck.errors.SamplerProtocolError` whose message names ``TARGET`` and the rule.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from pathlib import Path
from typing import Any

from theorycheck.errors import SamplerProtocolError
from theorycheck.samplers import check_sampler

__all__ = ["load_sampler", "resolve_target"]


def _split(target: str) -> tuple[str, str]:
    if not isinstance(target, str) or ":" not in target:
        raise SamplerProtocolError(
            f"`TARGET` must be 'module:attr' or 'path/to/file.py:attr' (got {target!r})")
    where, _, attr = target.rpartition(":")
    if not where or not attr or not all(part.isidentifier() for part in attr.split(".")):
        raise SamplerProtocolError(
            f"`TARGET` must be 'module:attr' or 'path/to/file.py:attr' with a dotted attribute "
            f"name after the colon (got {target!r})")
    return where, attr


def _import_file(path: Path, target: str) -> Any:
    if not path.is_file():
        raise SamplerProtocolError(f"`TARGET` {target!r}: file {str(path)!r} does not exist")
    name = f"_theorycheck_audit_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SamplerProtocolError(f"`TARGET` {target!r}: cannot import {str(path)!r}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # user code: any failure is reported as bad input
        raise SamplerProtocolError(
            f"`TARGET` {target!r}: importing {str(path)!r} failed "
            f"({type(exc).__name__}: {exc})") from None
    return module


def _import_module(name: str, target: str) -> Any:
    try:
        return importlib.import_module(name)
    except Exception as exc:  # user code: any failure is reported as bad input
        raise SamplerProtocolError(
            f"`TARGET` {target!r}: module {name!r} does not import "
            f"({type(exc).__name__}: {exc})") from None


def resolve_target(target: str) -> Any:
    """Import ``TARGET`` and return the named attribute (not yet called or checked).

    Parameters
    ----------
    target : str
        ``"package.module:attr"`` or ``"path/to/file.py:attr"`` (``attr`` may be dotted).

    Raises
    ------
    SamplerProtocolError
        If the string is malformed, the module or file does not import, or the attribute is
        missing.
    """
    where, attr = _split(target)
    if where.endswith(".py") or "/" in where or "\\" in where:
        module = _import_file(Path(where), target)
    else:
        module = _import_module(where, target)
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise SamplerProtocolError(
                f"`TARGET` {target!r}: {where!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def _looks_like_sampler(obj: Any) -> bool:
    return hasattr(obj, "alpha_bar") or hasattr(obj, "step")


def load_sampler(target: str) -> Any:
    """Resolve ``TARGET``, call it if it is a zero-argument factory, and check the protocol.

    Returns
    -------
    object
        A sampler whose ``alpha_bar`` passed :func:`theorycheck.samplers.check_sampler`.

    Raises
    ------
    SamplerProtocolError
        As :func:`resolve_target`; also if a factory needs arguments or raises, or the object
        lacks ``alpha_bar`` / ``step`` or has an ``alpha_bar`` that is not strictly decreasing
        in (0, 1).
    """
    obj = resolve_target(target)
    if not _looks_like_sampler(obj) and callable(obj):
        try:
            signature = inspect.signature(obj)
        except (TypeError, ValueError):
            signature = None
        if signature is not None and any(
                p.default is inspect.Parameter.empty
                and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                for p in signature.parameters.values()):
            raise SamplerProtocolError(
                f"`TARGET` {target!r}: a factory must take no arguments (signature {signature})")
        try:
            obj = obj()
        except Exception as exc:  # user code: any failure is reported as bad input
            raise SamplerProtocolError(
                f"`TARGET` {target!r}: calling the factory failed "
                f"({type(exc).__name__}: {exc})") from None
    try:
        check_sampler(obj)
    except SamplerProtocolError as exc:
        raise SamplerProtocolError(f"`TARGET` {target!r}: {exc}") from None
    return obj


