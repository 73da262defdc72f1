"""``diffusers:CLASS``: build any diffusers scheduler by name as a :class:`SchedulerLoop`.

``make_diffusers_loop("DPMSolverMultistepScheduler", config, steps=50)`` builds the scheduler
from a config dict (a JSON string or a pipeline's ``scheduler_config.json`` through
:func:`load_config`), checks that every key is accepted, that ``N`` does not exceed the training
steps and that the requested dtype runs, and returns the loop of
:mod:`theorycheck.audit.scheduler_loop`.  Defaults not in the config are diffusers' own, except
``clip_sample``/``thresholding`` (not affine; a user can switch them back on).

Schedulers the theory does not cover are refused with a reason (:data:`NOT_APPLICABLE`).
Imports torch and diffusers lazily (``pip install "theorycheck[audit]"``).
"""

from __future__ import annotations

import inspect
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from theorycheck.audit.scheduler_loop import (
    DTYPES,
    SchedulerLoop,
    TorchBackend,
    alpha_bar_interpolator,
)
from theorycheck.audit.wholechain import ChainFailure, CountingNoise, offspace_denoiser
from theorycheck.errors import InvalidParameterError, SamplerProtocolError

__all__ = ["NOT_APPLICABLE", "NotApplicableError", "SPACINGS", "load_config", "exact_betas",
           "make_diffusers_loop", "make_scheduler_loop", "applicable_schedulers", "LOG_SIGMA_INTERPOLATION"]

SPACINGS = ("leading", "trailing", "linspace")

_CONSISTENCY = ("consistency-type: one network call maps noise to data (or a few such calls with "
                "re-noising); there is no reverse-SDE/ODE discretization whose coefficients the "
                "one-step condition constrains")
_FLOW = ("flow matching: the state is x_t = (1-t) x_0 + t ε with a velocity model; the theory "
         "(variance-preserving DDPM/DDIM coefficients) does not carry over without a "
         "reparametrization that the scheduler does not expose")
_VE = ("variance-exploding only, with a continuous σ schedule and no alphas_cumprod table: "
       "not the discrete VP process the theory is stated for")
NOT_APPLICABLE: dict[str, str] = {
    "LCMScheduler": _CONSISTENCY, "TCDScheduler": _CONSISTENCY, "SCMScheduler": _CONSISTENCY,
    "CMStochasticIterativeScheduler": _CONSISTENCY, "FlowMatchLCMScheduler": _CONSISTENCY,
    "FlowMatchEulerDiscreteScheduler": _FLOW, "FlowMatchHeunDiscreteScheduler": _FLOW,
    "FlowMapEulerDiscreteScheduler": _FLOW, "LTXEulerAncestralRFScheduler": _FLOW,
    "PiflowScheduler": _FLOW, "HeliosScheduler": _FLOW, "HeliosDMDScheduler": _FLOW,
    "MiniMaxH3Scheduler": _FLOW, "RFD4ProteinaScheduler": _FLOW,
    "ScoreSdeVeScheduler": _VE, "KarrasVeScheduler": _VE,
    "EDMEulerScheduler": ("EDM preconditioning: the model output is F_θ of Karras et al. 2022 "
                          "(eq. 7), not ε, x_0 or v; an σ-units adapter like Euler's would carry "
                          "over but is not built"),
    "EDMDPMSolverMultistepScheduler": "EDM preconditioning (see EDMEulerScheduler)",
    "CosineDPMSolverMultistepScheduler": "EDM-style preconditioning and a continuous σ schedule",
    "DPMSolverSDEScheduler": ("its noise comes from torchsde's Brownian tree, not randn_tensor: "
                              "the draws cannot be fed to the chain"),
    "IPNDMScheduler": "no alphas_cumprod table: its own continuous schedule, no training β",
    "DDIMInverseScheduler": "inversion (data → noise), not a sampler",
    "DPMSolverMultistepInverseScheduler": "inversion (data → noise), not a sampler",
    "RePaintScheduler": "inpainting: needs a known image and mask at every step",
    "UnCLIPScheduler": "unCLIP's own variance parametrization (model predicts a variance too)",
    "VQDiffusionScheduler": "discrete (vector-quantized) diffusion",
    "AmusedScheduler": "masked-token generation",
    "DDPMWuerstchenScheduler": "continuous-time cosine schedule without an alphas_cumprod table",
    "EntropyBoundScheduler": "discrete (token) diffusion",
    "BlockRefinementScheduler": "discrete (token) diffusion",
    "DiscreteDDIMScheduler": "discrete (token) diffusion (D3PM uniform corruption)",
    "ConsistencyDecoderScheduler": _CONSISTENCY,
    "CogVideoXDDIMScheduler": "CogVideoX's v-prediction with its own SNR shift (video latents)",
    "CogVideoXDPMScheduler": "CogVideoX's v-prediction with its own SNR shift (video latents)",
}
#: Schedulers whose fractional timesteps come from log-σ interpolation (``_sigma_to_t``).
LOG_SIGMA_INTERPOLATION = ("KDPM2DiscreteScheduler", "KDPM2AncestralDiscreteScheduler")
#: Non-affine switches turned off unless the config sets them.
_OFF = {"clip_sample": False, "thresholding": False}


class NotApplicableError(SamplerProtocolError):
    """The scheduler is outside the theory; the message says why."""


def _imports() -> tuple[Any, Any]:
    try:
        import diffusers
        import torch
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise InvalidParameterError(
            f"`diffusers:` targets need torch and diffusers ({exc}); install them with "
            "`pip install torch==2.13.0 diffusers` (CPU build: see noxfile.py)") from None
    return torch, diffusers


def load_config(text: str | None) -> dict[str, Any]:
    """A config dict from a JSON string, a path to a JSON file, or None (``{}``)."""
    if text is None:
        return {}
    source = "`--config`"
    stripped = text.strip()
    if not stripped.startswith("{"):
        path = Path(text)
        if not path.is_file():
            raise InvalidParameterError(
                f"`--config` must be a JSON object or a path to a JSON file (no file {text!r})")
        stripped = path.read_text(encoding="utf-8")
        source = f"`--config` file {text!r}"
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise InvalidParameterError(f"{source} is not valid JSON ({exc.msg} at line {exc.lineno})"
                                    ) from None
    if not isinstance(data, dict):
        raise InvalidParameterError(f"{source} must be a JSON object (got {type(data).__name__})")
    return data


def exact_betas(config: dict[str, Any], name: str, *, rescale: bool = True
                ) -> NDArray[np.float64]:
    """The β table of a diffusers config computed in float64 (relative error ≲ 1e-15).

    ``linear``, ``scaled_linear``, ``squaredcos_cap_v2`` (Nichol & Dhariwal 2021, eq. 17) and
    ``trained_betas``; ``rescale_betas_zero_snr`` (Lin et al. 2024, Algorithm 1) is applied when
    ``rescale`` (the table the model sees; the scheduler applies it itself to what it is given).
    """
    n = int(config.get("num_train_timesteps", 1000))
    kind = config.get("beta_schedule", "linear")
    b0, b1 = float(config.get("beta_start", 1e-4)), float(config.get("beta_end", 0.02))
    if config.get("trained_betas") is not None:
        betas = np.asarray(config["trained_betas"], dtype=np.float64)
    elif kind == "linear":
        betas = np.linspace(b0, b1, n, dtype=np.float64)
    elif kind == "scaled_linear":
        betas = np.linspace(math.sqrt(b0), math.sqrt(b1), n, dtype=np.float64) ** 2
    elif kind == "squaredcos_cap_v2":
        def f(t: float) -> float:
            return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
        betas = np.array([min(1 - f((i + 1) / n) / f(i / n), 0.999) for i in range(n)])
    else:
        raise NotApplicableError(f"diffusers:{name}: not applicable: beta_schedule {kind!r} has "
                                 "no exact table here (linear, scaled_linear, squaredcos_cap_v2 "
                                 "or trained_betas)")
    if rescale and config.get("rescale_betas_zero_snr", False):
        root = np.sqrt(np.cumprod(1.0 - betas))
        first, last = root[0], root[-1]
        root = (root - last) * first / (first - last)
        ab = root**2
        alphas = np.concatenate([ab[:1], ab[1:] / ab[:-1]])
        betas = 1.0 - alphas
    return betas


def applicable_schedulers() -> list[str]:
    """diffusers' scheduler classes not in :data:`NOT_APPLICABLE` (sorted)."""
    _torch, diffusers = _imports()
    return sorted(n for n in dir(diffusers)
                  if n.endswith("Scheduler") and n not in NOT_APPLICABLE
                  and inspect.isclass(getattr(diffusers, n, None)))


def make_diffusers_loop(class_name: str, config: dict[str, Any] | None = None, *,
                        steps: int = 50, spacing: str | None = None, dtype: str = "float32",
                        step_kwargs: dict[str, Any] | None = None) -> SchedulerLoop:
    """Build ``diffusers.<class_name>`` from ``config`` as a checked :class:`SchedulerLoop`.

    Parameters
    ----------
    class_name : str
        A diffusers scheduler class, e.g. ``"DPMSolverMultistepScheduler"``.
    config, steps, spacing, dtype, step_kwargs
        As :func:`make_scheduler_loop`.

    Raises
    ------
    SamplerProtocolError
        Unknown class, and everything :func:`make_scheduler_loop` raises.
    NotApplicableError
        The scheduler is outside the theory (the message says why).
    """
    label = f"diffusers:{class_name}"
    if class_name in NOT_APPLICABLE:
        raise NotApplicableError(f"{label}: not applicable: {NOT_APPLICABLE[class_name]}")
    _torch, diffusers = _imports()
    cls = getattr(diffusers, class_name, None)
    if not (inspect.isclass(cls) and class_name.endswith("Scheduler")
            and hasattr(cls, "set_timesteps")):
        raise SamplerProtocolError(f"{label}: unknown scheduler class (diffusers "
                                   f"{diffusers.__version__} has no scheduler {class_name!r})")
    return make_scheduler_loop(cls, config, steps=steps, spacing=spacing, dtype=dtype,
                               step_kwargs=step_kwargs, label=label, backend=TorchBackend())


def make_scheduler_loop(cls: type, config: dict[str, Any] | None = None, *, steps: int = 50,
                        spacing: str | None = None, dtype: str = "float32",
                        step_kwargs: dict[str, Any] | None = None, label: str | None = None,
                        backend: Any = None) -> SchedulerLoop:
    """Build a diffusers-style scheduler class from ``config`` as a checked loop.

    Parameters
    ----------
    cls : type
        A class with diffusers' scheduler interface (``set_timesteps``, ``timesteps``,
        ``init_noise_sigma``, ``scale_model_input``, ``step``, ``config.prediction_type``) and
        the β-table keywords of its constructor.
    config : dict, optional
        Constructor arguments (``scheduler_config.json`` keys; ``_``-keys are ignored).
    steps : int
        ``N`` inference steps (≤ ``num_train_timesteps``).
    spacing : str, optional
        ``timestep_spacing`` (``leading``, ``trailing``, ``linspace``); default the config's.
    dtype : str
        Sample and model-output dtype of the shipped run (``float32`` as pipelines run).
    step_kwargs : dict, optional
        Extra ``step`` arguments (``{"eta": 0.5}`` for DDIM).
    label : str, optional
        Name in messages (default ``cls.__name__``).
    backend : NumpyBackend or TorchBackend, optional
        Default torch.

    Raises
    ------
    SamplerProtocolError
        A config key the class rejects, ``N`` too large, a bad spacing or dtype, a constructor
        or ``set_timesteps`` that fails, or a scheduler that cannot run its first step in
        ``dtype``; the message names the scheduler.
    NotApplicableError
        A β schedule without an exact table.
    """
    label = label if label is not None else cls.__name__
    name = cls.__name__
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise SamplerProtocolError(f"{label}: `--steps` must be a positive integer (got {steps!r})")
    if dtype not in DTYPES:
        raise SamplerProtocolError(f"{label}: `--dtype` must be one of {', '.join(DTYPES)} "
                                   f"(got {dtype!r})")
    if spacing is not None and spacing not in SPACINGS:
        raise SamplerProtocolError(f"{label}: `--spacing` must be one of {', '.join(SPACINGS)} "
                                   f"(got {spacing!r})")
    params = inspect.signature(cls).parameters
    accepted = set(params)
    cfg = {k: v for k, v in dict(config or {}).items() if not k.startswith("_")}
    rejected = sorted(set(cfg) - accepted)
    if rejected:
        raise SamplerProtocolError(f"{label}: config key(s) {', '.join(map(repr, rejected))} "
                                   f"not accepted by {name}.__init__")
    for key, value in _OFF.items():
        if key in accepted:
            cfg.setdefault(key, value)
    if spacing is not None:
        if "timestep_spacing" not in accepted:
            raise SamplerProtocolError(f"{label}: `--spacing` given but {name} has no "
                                       "timestep_spacing")
        cfg["timestep_spacing"] = spacing
    full = {k: p.default for k, p in params.items()
            if p.default is not inspect.Parameter.empty}
    full.update(cfg)
    num_train = int(full.get("num_train_timesteps", 1000))
    if steps > num_train:
        raise SamplerProtocolError(f"{label}: `--steps` N = {steps} exceeds the "
                                   f"{num_train} training steps")
    betas = exact_betas(full, name)
    raw_betas = exact_betas(full, name, rescale=False)
    table = np.asarray(np.cumprod(1.0 - betas), dtype=np.float64)
    interp = "log" if name in LOG_SIGMA_INTERPOLATION else "linear"
    can_ideal = "trained_betas" in accepted

    def build(mode: str) -> Any:
        kwargs = dict(cfg)
        if mode == "ideal" and can_ideal:
            kwargs["trained_betas"] = raw_betas.tolist()
        try:
            return cls(**kwargs)
        except Exception as exc:  # the library's validation: bad input
            raise SamplerProtocolError(f"{label}: the constructor rejected the config "
                                       f"({type(exc).__name__}: {exc})") from None

    loop = SchedulerLoop(name=label, build=build,
                         backend=backend if backend is not None else TorchBackend(),
                         module=sys.modules[cls.__module__], steps=steps, dtype=dtype,
                         mode="shipped", alpha_bar_at=alpha_bar_interpolator(table, interp),
                         alpha_bar_table=table, step_kwargs=dict(step_kwargs or {}),
                         exact_tables=can_ideal)
    probe = build("shipped")
    if not hasattr(probe, "alphas_cumprod") or not all(
            hasattr(probe, a) for a in ("set_timesteps", "step", "scale_model_input")):
        raise NotApplicableError(f"{label}: not applicable: no alphas_cumprod table or no "
                                 "set_timesteps/scale_model_input/step (not a discrete VP "
                                 "sampler)")
    try:
        loop.end_point()
    except SamplerProtocolError:
        raise
    except Exception as exc:  # set_timesteps rejected N or the spacing
        raise SamplerProtocolError(f"{label}: set_timesteps({steps}) failed "
                                   f"({type(exc).__name__}: {exc})") from None
    try:
        loop(np.zeros((1, 1)), offspace_denoiser, CountingNoise())
    except ChainFailure as exc:
        if exc.kind == "exception" and exc.step == 1:
            raise SamplerProtocolError(f"{label}: cannot run in {dtype}: {exc}") from None
    return loop
