"""portable_dl.save / load: safetensors round trips, nested state, atomic writes, refusals, torch interop."""

from __future__ import annotations

import io
import os
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

import portable_dl as pdl
import portable_dl.serialization as ser


def assert_tensor_equal(ours, expected):
    assert isinstance(ours, pdl.Tensor)
    assert ours.dtype == expected.dtype and tuple(ours.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(ours.numpy(), expected.numpy())


@pytest.mark.parametrize(
    "make",
    [
        lambda: pdl.tensor([True, False, True]),
        lambda: pdl.arange(12, dtype=pdl.int64).reshape(3, 4),
        lambda: pdl.tensor([1, -2, 3], dtype=pdl.int8),
        lambda: pdl.tensor([1, 2, 255], dtype=pdl.uint8),
        lambda: pdl.tensor([1, 2], dtype=pdl.int16),
        lambda: pdl.tensor([1, 2], dtype=pdl.int32),
        lambda: pdl.randn(3, 2).to(pdl.float16),
        lambda: pdl.randn(2, 3),
        lambda: pdl.randn(2, 3, dtype=pdl.float64),
        lambda: pdl.tensor(3.5),
        lambda: pdl.tensor(7),
        lambda: pdl.zeros(0, 3),
        lambda: pdl.zeros(0),
        lambda: pdl.randn(4, 5).t(),
        lambda: pdl.arange(20).reshape(4, 5)[:, ::2],
    ],
)
def test_round_trip_tensors(make, tmp_path):
    t = make()
    path = tmp_path / "x.safetensors"
    pdl.save({"t": t, "nested": [t]}, path)
    loaded = pdl.load(path)
    assert_tensor_equal(loaded["t"], t)
    assert_tensor_equal(loaded["nested"][0], t)
    pdl.save(t, str(path))  # a bare tensor at the top level
    assert_tensor_equal(pdl.load(str(path)), t)


def test_round_trip_file_objects():
    sd = {"weight": pdl.randn(3, 4), "bias": pdl.zeros(3)}
    buf = io.BytesIO()
    pdl.save(sd, buf)
    buf.seek(0)
    loaded = pdl.load(buf)
    assert list(loaded) == ["weight", "bias"]  # insertion order kept
    for k in sd:
        assert_tensor_equal(loaded[k], sd[k])


def test_loaded_tensors_are_writeable_and_detached(tmp_path):
    w = pdl.randn(2, 2, requires_grad=True)
    pdl.save({"w": w}, tmp_path / "w.st")
    loaded = pdl.load(tmp_path / "w.st")["w"]
    assert not loaded.requires_grad
    loaded.add_(1.0)
    np.testing.assert_allclose(loaded.numpy(), w.detach().numpy() + 1.0)


def test_optimizer_like_nested_structure(tmp_path):
    state = {
        "state": {
            0: {"step": pdl.tensor(3.0), "exp_avg": pdl.randn(2, 3), "exp_avg_sq": pdl.rand(2, 3)},
            1: {"step": pdl.tensor(3.0), "momentum_buffer": None},
        },
        "param_groups": [
            {
                "lr": 1e-3,
                "betas": (0.9, 0.999),
                "eps": 1e-8,
                "weight_decay": 0,
                "amsgrad": False,
                "foreach": None,
                "maximize": False,
                "params": [0, 1],
                "name": "group/0",
                "inf": float("inf"),
                "big": 2**62,
            }
        ],
        "misc": {True: "t", None: "n", 2.5: [], "e": {}, "tuple": ()},
    }
    pdl.save(state, tmp_path / "opt.st")
    loaded = pdl.load(tmp_path / "opt.st")
    assert list(loaded["state"]) == [0, 1]
    assert_tensor_equal(loaded["state"][0]["exp_avg"], state["state"][0]["exp_avg"])
    assert_tensor_equal(loaded["state"][1]["step"], state["state"][1]["step"])
    assert loaded["state"][1]["momentum_buffer"] is None
    assert loaded["param_groups"] == state["param_groups"]
    assert isinstance(loaded["param_groups"][0]["betas"], tuple)
    assert loaded["misc"] == state["misc"]
    nan = pdl.load(_saved({"x": float("nan")}))["x"]
    assert nan != nan


def _saved(obj):
    buf = io.BytesIO()
    pdl.save(obj, buf)
    buf.seek(0)
    return buf


def test_colliding_path_names_stay_distinct():
    a, b = pdl.ones(1), pdl.zeros(1)
    loaded = pdl.load(_saved({"x": {"y": a}, "x/y": [b], "z": {"x/y": b}}))
    assert_tensor_equal(loaded["x"]["y"], a)
    assert_tensor_equal(loaded["x/y"][0], b)


def test_unsupported_objects_are_refused():
    with pytest.raises(TypeError, match="no pickle"):
        pdl.save({"f": object()}, io.BytesIO())
    with pytest.raises(TypeError, match="keys"):
        pdl.save({(1, 2): pdl.ones(1)}, io.BytesIO())


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "model.st"
    pdl.save({"w": pdl.ones(2)}, path)
    original = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(ser.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        pdl.save({"w": pdl.zeros(5)}, path)
    assert path.read_bytes() == original  # the old file is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.st"]  # no temporary left behind

    monkeypatch.setattr(ser.os, "fsync", boom)
    with pytest.raises(OSError):
        pdl.save({"w": pdl.zeros(5)}, tmp_path / "new.st")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.st"]


def test_save_error_before_writing_leaves_nothing(tmp_path):
    with pytest.raises(TypeError):
        pdl.save({"w": pdl.ones(2), "bad": object()}, tmp_path / "m.st")
    assert list(tmp_path.iterdir()) == []


def test_file_mode_follows_umask(tmp_path):
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    path = tmp_path / "m.st"
    pdl.save({"w": pdl.ones(1)}, path)
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_torch_checkpoints_are_refused_with_advice(tmp_path):
    zipped = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, zipped)
    with pytest.raises(RuntimeError, match="save_file"):
        pdl.load(zipped)
    legacy = tmp_path / "legacy.pt"
    torch.save({"w": torch.ones(2)}, legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(RuntimeError, match="pickle"):
        pdl.load(legacy)
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(RuntimeError, match="never unpickles"):
        pdl.load(plain)


@pytest.mark.parametrize("cut", [0, 3, 8, 20, -1])
def test_truncated_files_raise_clear_errors(tmp_path, cut):
    path = tmp_path / "m.st"
    pdl.save({"w": pdl.randn(4, 4), "b": pdl.zeros(4)}, path)
    data = path.read_bytes()
    path.write_bytes(data[:cut] if cut >= 0 else data[:-5])
    with pytest.raises(ValueError, match="truncated|corrupt|empty"):
        pdl.load(path)


def test_corrupt_header_raises(tmp_path):
    path = tmp_path / "m.st"
    data = (10).to_bytes(8, "little") + b"{not json!" + b"\0" * 16
    path.write_bytes(data)
    with pytest.raises(ValueError, match="corrupt"):
        pdl.load(path)
    bad_structure = tmp_path / "s.st"
    from safetensors.numpy import save_file as np_save_file

    np_save_file({"a": np.ones(2, np.float32)}, bad_structure, metadata={ser.STRUCTURE_KEY: "{oops"})
    with pytest.raises(ValueError, match="corrupt"):
        pdl.load(bad_structure)


def test_torch_safetensors_file_loads_into_module_state(tmp_path):
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    path = tmp_path / "torch.safetensors"
    save_file(net.state_dict(), str(path))
    loaded = pdl.load(path)
    assert set(loaded) == set(net.state_dict())
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(loaded[name].numpy(), value.numpy())
        assert tuple(loaded[name].shape) == tuple(value.shape)
    if hasattr(pdl.nn, "Linear") and hasattr(pdl.nn, "Sequential"):
        try:
            ours = pdl.nn.Sequential(pdl.nn.Linear(3, 4), pdl.nn.ReLU(), pdl.nn.Linear(4, 2))
        except (NotImplementedError, TypeError, AttributeError):
            return
        ours.load_state_dict(loaded)
        x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
        np.testing.assert_allclose(
            ours(pdl.tensor(x)).detach().numpy(), net(torch.tensor(x)).detach().numpy(), rtol=1e-6, atol=1e-6
        )


def test_our_flat_state_dict_loads_in_torch(tmp_path):
    sd = {"w": pdl.randn(3, 2).t(), "flag": pdl.tensor([True]), "n": pdl.tensor(4), "h": pdl.ones(2, dtype=pdl.float16)}
    path = tmp_path / "ours.safetensors"
    pdl.save(sd, path)
    theirs = load_file(str(path))
    assert set(theirs) == set(sd)
    for k, v in sd.items():
        np.testing.assert_array_equal(theirs[k].numpy(), v.numpy())
        assert str(theirs[k].dtype).split(".")[-1] == str(v.dtype).split(".")[-1]


def test_map_location(tmp_path):
    path = tmp_path / "m.st"
    pdl.save({"w": pdl.ones(2)}, path)
    assert pdl.load(path, map_location="cpu")["w"].device.type == "cpu"
    assert pdl.load(path, map_location=pdl.device("cpu"))["w"].device.type == "cpu"
    assert pdl.load(path, weights_only=False)["w"].device.type == "cpu"
    with pytest.raises(TypeError, match="map_location"):
        pdl.load(path, map_location={"cuda:0": "cpu"})


@pytest.mark.gpu
def test_map_location_cuda(tmp_path):
    path = tmp_path / "m.st"
    pdl.save({"w": pdl.arange(3)}, path)
    w = pdl.load(path, map_location="cuda")["w"]
    assert w.device.type == "cuda" and w.tolist() == [0, 1, 2]
    pdl.save({"g": w}, path)  # saving a CUDA tensor goes through the host
    assert pdl.load(path)["g"].tolist() == [0, 1, 2]


def test_missing_safetensors_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r"portable-dl\[io\]"):
        pdl.save({"w": pdl.ones(1)}, io.BytesIO())


def test_import_does_not_load_safetensors():
    import subprocess

    code = "import sys, portable_dl; print('safetensors' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_path_like_and_overwrite(tmp_path):
    path = Path(tmp_path) / "a.st"
    pdl.save({"v": pdl.ones(1)}, path)
    pdl.save({"v": pdl.zeros(3)}, path)
    assert pdl.load(path)["v"].tolist() == [0.0, 0.0, 0.0]


def test_header_length_starting_like_pickle_still_loads():
    """A header of 0x480 bytes begins with b"\\x80\\x04", like a pickle; the JSON after it tells them apart."""
    obj = {"name": "", "w": pdl.ones(2)}
    for size in range(0x300, 0x500, 8):
        obj["name"] = "x" * size
        data = _saved(obj).getvalue()
        if data[:2] == b"\x80\x04":
            break
    assert data[:2] == b"\x80\x04"
    loaded = pdl.load(io.BytesIO(data))
    assert loaded["name"] == obj["name"] and loaded["w"].tolist() == [1.0, 1.0]


def test_unsupported_dtype_from_torch_is_named(tmp_path):
    path = tmp_path / "bf16.safetensors"
    save_file({"w": torch.ones(2, dtype=torch.bfloat16)}, str(path))
    with pytest.raises(TypeError, match="BF16"):
        pdl.load(path)
