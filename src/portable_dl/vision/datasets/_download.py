"""Download with checksum verification and atomic writes; errors that say what to fetch and where to put it."""

from __future__ import annotations

import hashlib
import os
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from ..._atomic import atomic_path

_CHUNK = 1 << 20


def file_md5(path: str | os.PathLike) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def check_integrity(path: str | os.PathLike, md5: str | None = None) -> bool:
    """True when ``path`` exists and (if ``md5`` is given) its MD5 matches."""
    if not os.path.isfile(path):
        return False
    return md5 is None or file_md5(path) == md5


def download_file(urls: Sequence[str], folder: str | os.PathLike, filename: str, md5: str, timeout: float = 60) -> Path:
    """Fetch ``filename`` into ``folder`` from the first of ``urls`` that answers with the right MD5.

    The file is written to a temporary name in ``folder`` and renamed only once verified, so an interrupted or
    corrupt download never leaves a file that looks complete.
    """
    folder = Path(folder)
    target = folder / filename
    if check_integrity(target, md5):
        return target
    folder.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        try:
            with atomic_path(target, suffix=".part") as tmp:
                with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                    for block in iter(lambda: response.read(_CHUNK), b""):
                        out.write(block)
                got = file_md5(tmp)
                if got != md5:  # leaves the target untouched
                    raise ValueError(f"MD5 {got} does not match the expected {md5}")
            return target
        except (OSError, ValueError) as error:
            failures.append(f"{url}: {error}")
    raise RuntimeError(
        f"could not download {filename} into {folder}:\n  " + "\n  ".join(failures) + f"\nDownload it by hand from "
        f"one of these addresses (expected MD5 {md5}) and put it at {target}."
    )
