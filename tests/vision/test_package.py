"""``portable_dl.vision`` is opt-in: ``import portable_dl`` does not load it, and it loads Pillow only on demand."""

from __future__ import annotations

import json
import subprocess
import sys


def _loaded_after(code: str) -> set[str]:
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_core_import_does_not_load_vision() -> None:
    loaded = _loaded_after("import portable_dl")
    assert not {m for m in loaded if m.startswith("portable_dl.vision")}


def test_vision_import_loads_no_pillow_or_torch() -> None:
    loaded = {m.split(".")[0] for m in _loaded_after("import portable_dl.vision")}
    assert "portable_dl" in loaded and not loaded & {"PIL", "torch", "torchvision"}
