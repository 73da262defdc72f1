"""Step-protocol samplers with memory: ``reset()``, the whole-chain audit, the CLI switch."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from theorycheck.audit.causes import cause_breakdown
from theorycheck.audit.examples import make_example
from theorycheck.audit.step_chain import step_sampler_chain
from theorycheck.audit.wholechain import impulse_response
from theorycheck.cli import main
from theorycheck.samplers import run_chain
from theorycheck.schedules import from_alpha_bar


class TwoStepDDIM:
    """DDIM with a second-order x̂_0 extrapolation (memory).

    Off the data x̂_0 = 0 and ε is constant along an exact chain, so any *consistent*
    extrapolation (weights summing to 1) stays exact there; ``broken`` uses weights 1.6 and -0.5
    on ε (an inconsistent multistep rule), which is not.
    """

    def __init__(self, num_steps: int = 30, broken: bool = False) -> None:
        self.alpha_bar = make_example("ddim", num_steps).alpha_bar
        self.q = np.asarray(from_alpha_bar(np.asarray(self.alpha_bar)).one_minus_alpha_bar)
        self.broken = broken
        self.resets = 0
        self.prev = None

    def reset(self) -> None:
        self.resets += 1
        self.prev = None

    def step(self, y, t, score, noise):
        ab, q = self.alpha_bar[t - 1], self.q[t - 1]
        ab_p, q_p = self.alpha_bar[t - 2], self.q[t - 2]
        x0 = (y + q * score) / math.sqrt(ab)
        eps = (y - math.sqrt(ab) * x0) / math.sqrt(q)
        if self.broken:
            d_eps = eps if self.prev is None else 1.6 * eps - 0.5 * self.prev
            self.prev = eps
            return math.sqrt(ab_p) * x0 + math.sqrt(q_p) * d_eps
        d_x0 = x0 if self.prev is None else 1.5 * x0 - 0.5 * self.prev
        self.prev = x0
        return math.sqrt(ab_p) * d_x0 + math.sqrt(q_p) * eps


def test_run_chain_resets_a_sampler_with_memory():
    sampler = TwoStepDDIM()
    from theorycheck.audit.checks import _factor_target
    from theorycheck.scores import exact_score

    target = _factor_target(2, basis_seed=0)
    score = exact_score(target, from_alpha_bar(np.asarray(sampler.alpha_bar)))
    a = run_chain(sampler, score, num_samples=5, dim=2, rng=np.random.default_rng(0)).final
    b = run_chain(sampler, score, num_samples=5, dim=2, rng=np.random.default_rng(0)).final
    assert sampler.resets == 2
    np.testing.assert_array_equal(a, b)


def test_memory_sampler_exact_off_the_data():
    chain = step_sampler_chain(TwoStepDDIM(), name="two-step DDIM")
    res = cause_breakdown(chain, rng=np.random.default_rng(0))
    design = next(c for c in res.causes if c.name == "coefficient design")
    assert abs(design.contribution.value) < 1e-12
    # DDIM keeps the start-up mismatch: e = ᾱ_T/(1-ᾱ_T) exactly.
    startup = next(c for c in res.causes if c.name == "start-up floor").contribution.value
    ab_T = float(chain.alpha_bar[-1])
    assert startup == pytest.approx(ab_T / (1 - ab_T), rel=1e-9)
    assert any("no exact-table run" in r for r in res.reasons)


def test_broken_memory_sampler_fails_on_design():
    chain = step_sampler_chain(TwoStepDDIM(broken=True), name="eps-extrapolating DDIM")
    resp = impulse_response(chain, rng=np.random.default_rng(0))
    assert resp.num_draws == 29  # one standard normal array per step, all multiplied by 0
    res = cause_breakdown(chain, rng=np.random.default_rng(0))
    assert res.verdict == "not_adaptive" and res.dominating == "coefficient design"


def test_cli_switches_to_the_whole_chain_for_samplers_with_reset(tmp_path, capsys):
    path = tmp_path / "memory_sampler.py"
    path.write_text("from test_audit_memory import TwoStepDDIM\n"
                    "def factory():\n    return TwoStepDDIM(broken=True)\n", encoding="utf-8")
    out = tmp_path / "a.json"
    assert main(["audit", f"{path}:factory", "--json", str(out)]) == 1
    payload = json.loads(out.read_text(encoding="utf-8"))
    assert payload["dominating_cause"] == "coefficient design"
    assert "NOT_ADAPTIVE" in capsys.readouterr().out
