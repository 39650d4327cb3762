"""The random draws of samplers and ``random_split``, honouring a ``generator`` argument.

Accepted generators: ``None`` and ``portable_dl.default_generator`` (what ``portable_dl.manual_seed(s)`` returns)
draw from the CPU generator that ``portable_dl.manual_seed`` seeds, so ``manual_seed(s)`` before iterating makes
the order reproducible; any object with NumPy ``Generator`` methods (``permutation`` and ``integers``, e.g.
``numpy.random.default_rng(0)``) is used directly and gives a stream independent of the global seed. The
orders differ from torch's (a different random engine); only their distribution and reproducibility match.
"""

from __future__ import annotations

from typing import Any


def _uses_global(generator: Any) -> bool:
    from ...ops.creation import default_generator

    return generator is None or generator is default_generator


def _check(generator: Any) -> None:
    if not _uses_global(generator) and not (hasattr(generator, "permutation") and hasattr(generator, "integers")):
        raise TypeError(
            "generator must be None, portable_dl.default_generator (returned by portable_dl.manual_seed) or a "
            f"NumPy-style Generator with permutation()/integers() (numpy.random.default_rng(seed)); got "
            f"{type(generator).__name__}"
        )


def randperm(n: int, generator: Any = None) -> list[int]:
    """A random permutation of ``range(n)`` as Python ints."""
    _check(generator)
    if _uses_global(generator):
        from ...backends import CPU

        return [int(i) for i in CPU.permutation(int(n)).tolist()]
    return [int(i) for i in generator.permutation(int(n)).tolist()]


def randint(high: int, size: int, generator: Any = None) -> list[int]:
    """``size`` integers drawn uniformly from ``[0, high)``."""
    _check(generator)
    rng = generator
    if _uses_global(generator):
        from ...backends import CPU

        rng = CPU.generator()
    return [int(i) for i in rng.integers(0, int(high), size=int(size)).tolist()]


def choice(weights: list[float], size: int, replacement: bool, generator: Any = None) -> list[int]:
    """``size`` indices drawn with probabilities proportional to ``weights``."""
    _check(generator)
    rng = generator
    if _uses_global(generator):
        from ...backends import CPU

        rng = CPU.generator()
    total = float(sum(weights))
    p = [float(w) / total for w in weights]
    return [int(i) for i in rng.choice(len(p), size=int(size), replace=replacement, p=p).tolist()]
