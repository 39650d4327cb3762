"""The glibc allocator thresholds: applied by default on glibc Linux, never over the user's own settings."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = "import portable_dl.backends.malloc_tuning as m, portable_dl; print(m._applied)"
glibc_only = pytest.mark.skipif(
    sys.platform != "linux" or not os.confstr("CS_GNU_LIBC_VERSION"), reason="glibc Linux only"
)


def _applied(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    clean.pop("PORTABLE_DL_MALLOC_TUNING", None)
    result = subprocess.run([sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@glibc_only
def test_applied_by_default() -> None:
    assert _applied() == "True"


@pytest.mark.parametrize(
    "env",
    [{"PORTABLE_DL_MALLOC_TUNING": "0"}, {"MALLOC_ARENA_MAX": "2"}, {"MALLOC_MMAP_THRESHOLD_": "65536"},
     {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1"}],
)  # fmt: skip
def test_user_settings_win(env: dict) -> None:
    assert _applied(**env) == "False"
