"""A one-minute tour of the theorycheck API.

Run ``python examples/tour.py`` after ``pip install -e .`` (in a bare source checkout:
``PYTHONPATH=. python examples/tour.py``).

Each step prints one line; every number is an Estimate ``value ± error (method)``.
"""

from __future__ import annotations

import numpy as np

import theorycheck as tc


def main() -> None:
    print(f"theorycheck {tc.__version__}")

    # 1. Schedules are exact tables (mpmath underneath, float64 views on top).
    schedule = tc.two_phase(200)
    print(f"schedule: {schedule.describe()}; ᾱ_T = {schedule.alpha_bar[-1]:.3e}")
    print(f"          linear/cosine too: {tc.linear(200).describe()}, {tc.cosine(200).describe()}")

    # 2. A design = the sampler's coefficients on that schedule; R_t - 1 is its one-step cost.
    design = tc.make_design("ddpm_posterior", schedule)
    cond = design.one_step_condition()
    print(f"design: {design.describe()}: max_t |R_t - 1| = {cond.max_abs:.2e} at t={cond.worst_step}")

    # 3. A target on a k = 1 subspace of R^1000, measured from objects ...
    target = tc.SubspaceGaussianMixture.create([0.3, 0.7], [[-1.5], [1.0]], [[[0.09]], [[0.25]]],
                                               ambient_dim=1000, basis_seed=0)
    result = tc.measure(target, design, rng=np.random.default_rng(0), metrics=["tv"])
    print(f"measure (objects): TV = {result.values['tv']}")

    # ... or from the same JSON spec `theorycheck measure` reads.
    spec = {"target": {"kind": "subspace_gmm", "ambient_dim": 1000, "weights": [0.3, 0.7],
                       "means": [[-1.5], [1.0]], "covariances": [[[0.09]], [[0.25]]],
                       "basis_seed": 0},
            "schedule": {"kind": "two_phase", "steps": 200},
            "sampler": {"design": "ddpm_posterior"}, "metrics": ["tv"], "seed": 0}
    print(f"measure (spec):    TV = {tc.measure(spec).values['tv']}")

    # 4. Audit a black-box sampler (an object or a zero-argument factory).
    from theorycheck.audit.examples import make_example

    audit = tc.audit(lambda: make_example("ddim", 200), split_checks=False)
    print(f"audit: DDIM is {audit.verdict.value}: {audit.reasons[0]}")

    # 5. Run registered claims and their negative controls (same results for any executor).
    run = tc.run_claims(ids=["DECOMP"], profile="quick", seed=0)
    for r in run.results:
        print(f"claim {r.claim.id}: {r.verdict.value} (control {r.control.verdict.value}); "
              f"{r.outcome.measured}")
    print(f"verdicts are {[v.value for v in tc.Verdict]}; submodules load on use: {tc.schedules.__name__}")


if __name__ == "__main__":
    main()
