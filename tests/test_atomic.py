"""Atomic writes: whole file or old file, new-file permissions, no temporary left behind."""

from __future__ import annotations

import os
import stat

import pytest

from portable_dl._atomic import atomic_path, write_bytes


def test_new_file_gets_the_umask_permissions(tmp_path) -> None:
    old = os.umask(0o027)
    try:
        write_bytes(tmp_path / "a.bin", b"data")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a.bin").st_mode) == 0o640
    assert (tmp_path / "a.bin").read_bytes() == b"data"


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path) -> None:
    target = tmp_path / "model.onnx"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"), atomic_path(target) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(b"half")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


def test_missing_folder_is_named(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_bytes(tmp_path / "nope" / "f.bin", b"x")
