"""Shared fixtures: the ``device`` fixture runs a test on the CPU and, under the ``gpu`` marker, on CUDA."""

from __future__ import annotations

import pytest

import portable_dl as pdl


def _cuda_available() -> bool:
    return pdl.cuda.is_available()


CUDA = _cuda_available()


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    skip_gpu = pytest.mark.skip(reason="needs a CUDA GPU visible to CuPy (pip install 'portable-dl[gpu]')")
    for item in items:
        if "gpu" in item.keywords and not CUDA:
            item.add_marker(skip_gpu)


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def device(request: pytest.FixtureRequest) -> str:
    """Run the test once per device: 'cpu' always, 'cuda' when a GPU is present."""
    return request.param
