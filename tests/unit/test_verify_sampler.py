"""``theorycheck verify --sampler``: a user's sampler probed into the rate claims; bad input."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from theorycheck.claims.rates import sampler_registry
from theorycheck.claims.types import CheckContext, Variant
from theorycheck.claims.user_sampler import UserSampler
from theorycheck.cli import main
from theorycheck.designs import make_design
from theorycheck.errors import SamplerProtocolError
from theorycheck.schedules import two_phase

GOOD = '''
import numpy as np


class DDPMPosterior:
    """DDPM with the posterior variance, written from alpha_bar alone."""

    def __init__(self, alpha_bar):
        self.alpha_bar = np.asarray(alpha_bar, dtype=float)
        ab = self.alpha_bar
        self.alpha = np.concatenate([[ab[0]], ab[1:] / ab[:-1]])

    def step(self, y, t, score, noise):
        a, ab = self.alpha[t - 1], self.alpha_bar[t - 1]
        var = (1 - a) * (a - ab) / (1 - ab)
        return (y + (1 - a) * score + np.sqrt(var) * noise) / np.sqrt(a)


def make(alpha_bar):
    return DDPMPosterior(alpha_bar)


class Broken(DDPMPosterior):
    def step(self, y, t, score, noise):
        if t == 7:
            raise RuntimeError("boom")
        return super().step(y, t, score, noise)


class Shape(DDPMPosterior):
    def step(self, y, t, score, noise):
        return super().step(y, t, score, noise)[:, :1]


class NaN(DDPMPosterior):
    def step(self, y, t, score, noise):
        return super().step(y, t, score, noise) * np.nan


class Clipped(DDPMPosterior):
    def step(self, y, t, score, noise):
        return np.clip(super().step(y, t, score, noise), -2.0, 2.0)


def raises(alpha_bar):
    raise ValueError("no schedule for you")


NOT_CALLABLE = 3
'''


@pytest.fixture(scope="module")
def sampler_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("user") / "my_sampler.py"
    path.write_text(textwrap.dedent(GOOD))
    return path


def test_probed_design_equals_the_built_in_one(sampler_file: Path) -> None:
    user = UserSampler.load(f"{sampler_file}:make")
    schedule = two_phase(25)
    probed, exact = user.design(schedule), make_design("ddpm_posterior", schedule)
    np.testing.assert_allclose(probed.eta[1:], exact.eta[1:], rtol=1e-9)
    np.testing.assert_allclose(probed.sigma[1:], exact.sigma[1:], rtol=1e-9)


def test_sampler_registry_uses_the_user_sampler_only_in_the_claim_variant(
        sampler_file: Path) -> None:
    registry = sampler_registry(UserSampler.load(f"{sampler_file}:make"))
    assert registry.ids() == ("RATE-TV", "RATE-LY", "RATE-KL")
    claim = registry.get("RATE-KL")
    assert claim.title.endswith(f"{sampler_file}:make")
    assert "probed from its steps" in claim.grids["quick"]


@pytest.mark.parametrize(("attr", "match"), [
    ("Broken", r"at T=25: `step` raised at t=7 \(RuntimeError: boom\)"),
    ("Shape", r"at T=25: `sampler.step` must return shape \(\d+, 3\) at t=25"),
    ("NaN", r"at T=25: `sampler.step` returned NaN or infinity at t=25"),
    ("Clipped", r"at T=25: the step must be affine .* \(worst at t=\d+"),
    ("raises", r"at T=25: ATTR\(alpha_bar\) raised \(ValueError: no schedule for you\)"),
])
def test_bad_samplers_fail_with_one_line_naming_target_and_t(
        sampler_file: Path, attr: str, match: str, capsys: pytest.CaptureFixture[str]) -> None:
    target = f"{sampler_file}:{attr}"
    with pytest.raises(SamplerProtocolError, match=match):
        UserSampler.load(target).design(two_phase(25))
    code = main(["verify", "--sampler", target, "--claims", "RATE-KL"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and target in err and "T=25" in err and "Traceback" not in err


@pytest.mark.parametrize(("suffix", "match"), [
    (":NOT_CALLABLE", "must be callable as ATTR"),
    (":missing", "has no attribute 'missing'"),
])
def test_bad_targets_exit_2(sampler_file: Path, suffix: str, match: str,
                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--sampler", f"{sampler_file}{suffix}"]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1
    with pytest.raises(SamplerProtocolError, match=match):
        UserSampler.load(f"{sampler_file}{suffix}")


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--sampler", f"{tmp_path}/nope.py:make"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_claim_variant_measures_the_user_sampler(sampler_file: Path) -> None:
    """One point of the claim variant: the user's DDPM equals the built-in one to quadrature."""
    from theorycheck.claims import _rate_experiments as rx

    user = UserSampler.load(f"{sampler_file}:make")
    spec = rx.PointSpec(target=rx.GAUSSIAN, intrinsic_dim=1, design="user", num_steps=25,
                        sampler=user)
    built_in = rx.PointSpec(target=rx.GAUSSIAN, intrinsic_dim=1, design="ddpm_posterior",
                            num_steps=25)
    tv_user, _ = rx.measure_point(spec, np.random.default_rng(0))
    tv_exact, _ = rx.measure_point(built_in, np.random.default_rng(0))
    assert tv_user.value == pytest.approx(tv_exact.value, rel=1e-6)
    assert spec.design_label() == f"user[{sampler_file}:make]"
    assert CheckContext(claim_id="RATE-KL", profile="quick", variant=Variant.CLAIM, seed=0)
