"""``portable_dl.utils.data``: datasets, samplers and the ``DataLoader``, as in ``torch.utils.data``.

Random orders (``shuffle=True``, ``RandomSampler``, ``SubsetRandomSampler``, ``random_split``) take a
``generator``: ``None`` or ``portable_dl.default_generator`` (what ``portable_dl.manual_seed(seed)`` returns)
use the CPU generator seeded by ``portable_dl.manual_seed``; a NumPy ``Generator``
(``numpy.random.default_rng(seed)``) gives an independent, reproducible stream. Orders are reproducible under
a seed but differ from torch's, which uses another random engine.
"""

from ._collate import *
from ._collate import __all__ as _collate_all
from .dataloader import *
from .dataloader import __all__ as _dataloader_all
from .dataset import *
from .dataset import __all__ as _dataset_all
from .sampler import *
from .sampler import __all__ as _sampler_all

__all__ = [*_dataset_all, *_sampler_all, *_dataloader_all, *_collate_all]
