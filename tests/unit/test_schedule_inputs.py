"""Bad user schedules: tiny α_t (lost at the working precision) and numeric strings."""

from __future__ import annotations

import numpy as np
import pytest

from theorycheck import schedules
from theorycheck.errors import InvalidParameterError


@pytest.mark.parametrize(("alpha", "needed"), [(1e-300, 318), (1e-40, 57)])
def test_tiny_alpha_names_the_entry_and_the_precision_needed(alpha: float, needed: int) -> None:
    with pytest.raises(InvalidParameterError,
                       match=rf"`alphas` entry 1 \(t=2\) is .*cannot hold it at dps=50 digits"
                             rf".*pass dps >= {needed}") as info:
        schedules.from_alphas([0.5, alpha, 0.5])
    assert "underflows" not in str(info.value)  # the old, misleading message
    fixed = schedules.from_alphas([0.5, alpha, 0.5], dps=needed)  # the advice works
    assert fixed.alpha[1] == alpha and fixed.alpha_bar[2] == 0.25 * alpha


def test_a_real_underflow_is_still_called_one() -> None:
    with pytest.raises(InvalidParameterError, match="underflows"):
        schedules.from_alphas([1e-200, 1e-200], dps=700)


@pytest.mark.parametrize("values", [["0.5", 0.1], np.array(["0.5", "0.1"]), [0.5, b"0.1"]])
@pytest.mark.parametrize("builder", [schedules.from_betas, schedules.from_alphas,
                                     schedules.from_alpha_bar])
def test_numeric_strings_are_rejected(builder: object, values: object) -> None:
    with pytest.raises(InvalidParameterError, match=r"only real numbers, not strings \(entry"):
        builder(values)  # type: ignore[operator]
