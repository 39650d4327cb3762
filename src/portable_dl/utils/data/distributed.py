"""``torch.utils.data.distributed``: the sampler lives with the rest of ``portable_dl.distributed``."""

from ...distributed.sampler import DistributedSampler

__all__ = ["DistributedSampler"]
