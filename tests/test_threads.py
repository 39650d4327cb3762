"""set_num_threads / get_num_threads reach NumPy's OpenBLAS, in this process and with torch's argument checks."""

from __future__ import annotations

import numpy as np
import pytest

import portable_dl as pdl


def test_set_then_get_and_results_unchanged() -> None:
    before = pdl.get_num_threads()
    a = np.random.default_rng(0).standard_normal((256, 256))
    want = a @ a
    try:
        for n in (1, 2):
            pdl.set_num_threads(n)
            assert pdl.get_num_threads() == n
            np.testing.assert_allclose(a @ a, want, rtol=1e-12, atol=1e-10)
    finally:
        pdl.set_num_threads(before)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_bad_counts_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        pdl.set_num_threads(bad)
