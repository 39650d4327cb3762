"""The README's first command: ``python examples/quickstart.py`` trains on the embedded digits and exports to ONNX.

The full default run is executed (it needs no data folder: the digits ship inside the package). Its claims are
then checked independently of portable_dl: ONNX Runtime runs the written ``model.onnx`` on the test digits, and
PyTorch rebuilds the network from the written safetensors checkpoint; both must reach 95% and agree.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from portable_dl.vision.digits import load_digits

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "examples" / "quickstart.py"
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"


def _needs_example_extras() -> None:
    """The quickstart needs the ``examples`` extra: tqdm, matplotlib, safetensors, onnx and onnxruntime."""
    for module in ("onnxruntime", "onnx", "tqdm", "matplotlib", "safetensors"):
        pytest.importorskip(module)


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=900)


def _summary(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _torch_logits(checkpoint: Path, images: Any) -> Any:
    """The quickstart's network rebuilt in PyTorch from the checkpoint, applied to uint8 images."""
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    net = torch.nn.ModuleDict({
        "conv1": torch.nn.Conv2d(1, 16, 3, padding=1), "conv2": torch.nn.Conv2d(16, 32, 3, padding=1),
        "fc1": torch.nn.Linear(32 * 7 * 7, 128), "fc2": torch.nn.Linear(128, 10),
    })  # fmt: skip
    net.load_state_dict(load_file(str(checkpoint)))
    f = torch.nn.functional
    with torch.no_grad():
        x = torch.from_numpy(images[:, None].astype("float32") / 255.0)
        x = f.max_pool2d(f.relu(net["conv1"](x)), 2)
        x = f.max_pool2d(f.relu(net["conv2"](x)), 2)
        return net["fc2"](f.relu(net["fc1"](x.flatten(1)))).numpy()


@pytest.mark.slow
def test_quickstart_trains_exports_and_onnx_runtime_agrees(tmp_path: Path) -> None:
    _needs_example_extras()
    import numpy as np
    import onnxruntime as ort

    summary = _summary(_run("--out", str(tmp_path)))
    assert summary["train_size"] == 6000 and summary["test_size"] == 1000, summary
    assert summary["eager_acc"] >= 0.95 and summary["onnx_acc"] >= 0.95, summary
    assert summary["max_abs_diff"] < 1e-3, summary
    assert summary["train_loss_last"] < 0.5 * summary["train_loss_first"], summary

    images, labels = load_digits("test")
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape[0] == "batch"  # a dynamic batch axis
    onnx_logits = session.run(None, {session.get_inputs()[0].name: images[:, None].astype(np.float32) / 255.0})[0]
    assert onnx_logits.shape == (1000, 10)
    onnx_acc = float((onnx_logits.argmax(1) == labels).mean())
    assert onnx_acc >= 0.95, onnx_acc
    assert abs(onnx_acc - summary["onnx_acc"]) < 1e-9, (onnx_acc, summary["onnx_acc"])

    torch_logits = _torch_logits(tmp_path / "model.safetensors", images)
    np.testing.assert_allclose(onnx_logits, torch_logits, atol=1e-3, rtol=1e-3)
    assert float((torch_logits.argmax(1) == labels).mean()) >= 0.95

    png = tmp_path / "quickstart.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image

    height, width = matplotlib.image.imread(str(png)).shape[:2]
    assert height > 300 and width > 600, (height, width)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary files left behind"


def test_quickstart_refuses_a_missing_data_folder(tmp_path: Path) -> None:
    _needs_example_extras()
    result = _run("--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    assert "--data" in result.stderr and "nowhere" in result.stderr, result.stderr


@pytest.mark.slow
def test_quickstart_reads_mnist_idx_files_with_data(tmp_path: Path) -> None:
    if not SHARED_MNIST.is_dir():
        pytest.skip(f"the shared MNIST files are not at {SHARED_MNIST}")
    _needs_example_extras()
    summary = _summary(_run("--data", str(SHARED_MNIST), "--epochs", "1", "--out", str(tmp_path)))
    assert (summary["train_size"], summary["test_size"]) == (8000, 2000), summary  # t10k only: split 80/20
    assert summary["eager_acc"] >= 0.9 and summary["onnx_acc"] >= 0.9, summary
    assert summary["max_abs_diff"] < 1e-3, summary


def test_embedded_digits_are_well_formed() -> None:
    import numpy as np

    for split, size in (("train", 6000), ("test", 1000)):
        images, labels = load_digits(split)
        assert images.shape == (size, 28, 28) and images.dtype == np.uint8
        assert labels.shape == (size,) and labels.dtype == np.int64
        assert set(np.unique(labels).tolist()) == set(range(10))
        assert images.max() == 255 and images.min() == 0
    with pytest.raises(ValueError, match="'train', 'test'"):
        load_digits("validation")


def test_embedded_digits_are_unchanged_mnist_test_digits() -> None:
    """Every embedded digit equals the MNIST t10k digit it was cut from, and the two splits do not overlap."""
    if not SHARED_MNIST.is_dir():
        pytest.skip(f"the shared MNIST files are not at {SHARED_MNIST}")
    import gzip

    import numpy as np

    raw_images = gzip.decompress((SHARED_MNIST / "t10k-images-idx3-ubyte.gz").read_bytes())
    raw_labels = gzip.decompress((SHARED_MNIST / "t10k-labels-idx1-ubyte.gz").read_bytes())
    mnist_images = np.frombuffer(raw_images, dtype=np.uint8, offset=16).reshape(10000, 28, 28)
    mnist_labels = np.frombuffer(raw_labels, dtype=np.uint8, offset=8).astype(np.int64)
    archive = np.load(ROOT / "src" / "portable_dl" / "vision" / "data" / "digits.npz", allow_pickle=False)
    seen: set[int] = set()
    for split in ("train", "test"):
        images, labels = load_digits(split)
        index = archive[f"source_index_{split}"]
        np.testing.assert_array_equal(images, mnist_images[index])
        np.testing.assert_array_equal(labels, mnist_labels[index])
        assert not seen & set(index.tolist())
        seen |= set(index.tolist())


def test_build_script_reproduces_the_embedded_digits(tmp_path: Path) -> None:
    """``tools/build_digits.py`` (as the data README says) rebuilds exactly the arrays that ship in the package."""
    if not SHARED_MNIST.is_dir():
        pytest.skip(f"the shared MNIST files are not at {SHARED_MNIST}")
    import numpy as np

    rebuilt = tmp_path / "digits.npz"
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "build_digits.py"), "--mnist", str(SHARED_MNIST),
                             "--out", str(rebuilt)], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    embedded = ROOT / "src" / "portable_dl" / "vision" / "data" / "digits.npz"
    with np.load(rebuilt, allow_pickle=False) as new, np.load(embedded, allow_pickle=False) as old:
        assert sorted(new.files) == sorted(old.files)
        for key in old.files:
            np.testing.assert_array_equal(new[key], old[key], err_msg=key)
