"""portable_dl.utils.data against torch.utils.data: batch shapes, dtypes, orders, lengths, collation."""

from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import portable_dl as pdl
import portable_dl.utils.data as pud


def assert_same(ours, theirs):
    """Same nested structure, tensor dtypes, shapes and values."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, pdl.Tensor), type(ours)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        assert tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs)
        for k in theirs:
            assert_same(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), (type(ours), type(theirs))
        for a, b in zip(ours, theirs):
            assert_same(a, b)
    else:
        assert ours == theirs


def tensor_datasets(n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return pud.TensorDataset(pdl.tensor(x), pdl.tensor(y)), tud.TensorDataset(torch.tensor(x), torch.tensor(y))


@pytest.mark.parametrize("batch_size", [1, 3, 4, 10, 12])
@pytest.mark.parametrize("drop_last", [False, True])
def test_dataloader_sequential_matches_torch(batch_size, drop_last):
    ours_ds, torch_ds = tensor_datasets()
    ours = pud.DataLoader(ours_ds, batch_size=batch_size, drop_last=drop_last)
    theirs = tud.DataLoader(torch_ds, batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    ours_batches, torch_batches = list(ours), list(theirs)
    assert len(ours_batches) == len(torch_batches)
    for a, b in zip(ours_batches, torch_batches):
        assert_same(a, b)


def test_dataloader_batch_size_none_and_batch_sampler():
    ours_ds, torch_ds = tensor_datasets(5)
    for a, b in zip(pud.DataLoader(ours_ds, batch_size=None), tud.DataLoader(torch_ds, batch_size=None)):
        assert_same(a, b)
    assert len(pud.DataLoader(ours_ds, batch_size=None)) == 5
    batches = [[4, 0], [1, 2, 3]]
    ours = pud.DataLoader(ours_ds, batch_sampler=batches)
    theirs = tud.DataLoader(torch_ds, batch_sampler=batches)
    assert len(ours) == len(theirs) == 2
    for a, b in zip(ours, theirs):
        assert_same(a, b)


class _Squares:
    """A plain map-style dataset (no base class) of nested samples."""

    def __init__(self, module, n=7):
        self.module, self.n = module, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        m = self.module
        return {"x": m.full((2,), float(i)), "pair": (i, float(i) / 2), "name": f"s{i}", "arr": np.ones((2, 2)) * i}


def test_dataloader_nested_samples_and_custom_collate():
    ours = list(pud.DataLoader(_Squares(pdl), batch_size=3))
    theirs = list(tud.DataLoader(_Squares(torch), batch_size=3))
    assert len(ours) == len(theirs) == 3
    for a, b in zip(ours, theirs):
        assert_same(a, b)
    collated = list(pud.DataLoader(_Squares(pdl), batch_size=2, collate_fn=lambda b: len(b)))
    assert collated == [2, 2, 2, 1]


Point = collections.namedtuple("Point", ["x", "y"])


@pytest.mark.parametrize(
    "make_batch",
    [
        lambda m: [m.zeros(2, 3), m.ones(2, 3)],
        lambda m: [1, 2, 3],
        lambda m: [1.5, 2.5],
        lambda m: [True, False],
        lambda m: [np.float32(1.0), np.float32(2.0)],
        lambda m: [np.int32(1), np.int32(2)],
        lambda m: [np.arange(3, dtype=np.int16), np.arange(3, dtype=np.int16)],
        lambda m: ["a", "b"],
        lambda m: [(1, 2.0, "a"), (3, 4.0, "b")],
        lambda m: [[1, [2.0, 3]], [4, [5.0, 6]]],
        lambda m: [{"a": 1, "b": {"c": m.zeros(2)}}, {"a": 2, "b": {"c": m.ones(2)}}],
        lambda m: [Point(1, 2.0), Point(3, 4.0)],
    ],
)
def test_default_collate_matches_torch(make_batch):
    assert_same(pud.default_collate(make_batch(pdl)), tud.default_collate(make_batch(torch)))


@pytest.mark.parametrize(
    "make",
    [
        lambda m: np.arange(4.0),
        lambda m: np.float32(3.0),
        lambda m: (np.arange(2), "s", 3),
        lambda m: [np.zeros(2), {"k": np.ones(1, dtype=np.int8)}],
        lambda m: Point(np.zeros(1), 2),
        lambda m: 5,
    ],
)
def test_default_convert_matches_torch(make):
    assert_same(pud.default_convert(make(pdl)), tud.default_convert(make(torch)))


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="equal size"):
        pud.default_collate([[1, 2], [3]])
    with pytest.raises(TypeError):
        pud.default_collate([object(), object()])
    with pytest.raises(TypeError):
        pud.default_collate([np.array(["a"]), np.array(["b"])])


def test_shuffle_is_a_permutation_and_reproducible_under_seed():
    ours_ds, _ = tensor_datasets(20)
    loader = pud.DataLoader(ours_ds, batch_size=6, shuffle=True)

    def epoch():
        return [i for _, y in loader for i in y.tolist()]

    pdl.manual_seed(123)
    first, second = epoch(), epoch()
    assert sorted(first) == list(range(20)) and sorted(second) == list(range(20))
    assert first != second  # a fresh order every epoch
    pdl.manual_seed(123)
    assert epoch() == first
    assert [len(y) for _, y in loader] == [6, 6, 6, 2]


def test_generator_arguments():
    ds = list(range(50))
    a = list(pud.RandomSampler(ds, generator=np.random.default_rng(5)))
    b = list(pud.RandomSampler(ds, generator=np.random.default_rng(5)))
    assert a == b and sorted(a) == ds
    g = pdl.manual_seed(7)
    c = list(pud.DataLoader(ds, batch_size=50, shuffle=True, generator=g))[0].tolist()
    pdl.manual_seed(7)
    assert list(pud.DataLoader(ds, batch_size=50, shuffle=True, generator=pdl.default_generator))[0].tolist() == c
    with pytest.raises(TypeError, match="generator"):
        pud.RandomSampler(ds, generator="seed")


def test_random_sampler_options():
    ds = list(range(10))
    with_repl = list(pud.RandomSampler(ds, replacement=True, num_samples=100))
    assert len(with_repl) == 100 and set(with_repl) <= set(ds)
    many = list(pud.RandomSampler(ds, num_samples=25))
    assert len(many) == 25 and sorted(many[:10]) == ds and sorted(many[10:20]) == ds
    assert len(pud.RandomSampler(ds, num_samples=25)) == len(tud.RandomSampler(ds, num_samples=25)) == 25
    for kwargs, err in [({"replacement": 1}, TypeError), ({"num_samples": 0}, ValueError)]:
        with pytest.raises(err):
            pud.RandomSampler(ds, **kwargs)
        with pytest.raises(err):
            tud.RandomSampler(ds, **kwargs)


def test_samplers_match_torch_where_deterministic():
    ds = list(range(7))
    assert list(pud.SequentialSampler(ds)) == list(tud.SequentialSampler(ds))
    for bs in (1, 2, 3, 7, 8):
        for drop in (False, True):
            ours, theirs = pud.BatchSampler(range(7), bs, drop), tud.BatchSampler(range(7), bs, drop)
            assert list(ours) == list(theirs) and len(ours) == len(theirs)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError):
            pud.BatchSampler(range(3), bad, False)
    sub = pud.SubsetRandomSampler([3, 5, 9])
    assert sorted(sub) == [3, 5, 9] and len(sub) == 3


def test_datasets_subset_concat_add():
    ours_ds, torch_ds = tensor_datasets(6)
    assert len(ours_ds) == 6
    assert_same(ours_ds[2], torch_ds[2])
    with pytest.raises(AssertionError):
        pud.TensorDataset(pdl.zeros(3), pdl.zeros(4))
    sub = pud.Subset(list(range(10)), [9, 1, 4])
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [9, 1, 4]
    assert_same(pud.Subset(ours_ds, [5, 1, 3])[[0, 2]], tud.Subset(torch_ds, [5, 1, 3])[[0, 2]])
    cat = pud.ConcatDataset([[0, 1, 2], [3, 4], [5]])
    tcat = tud.ConcatDataset([[0, 1, 2], [3, 4], [5]])
    assert len(cat) == 6 and [cat[i] for i in range(-6, 6)] == [tcat[i] for i in range(-6, 6)]
    assert cat.cumulative_sizes == tcat.cumulative_sizes
    added = ours_ds + ours_ds
    assert isinstance(added, pud.ConcatDataset) and len(added) == 12


class _Stream(pud.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


class _TorchStream(tud.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


@pytest.mark.parametrize("drop_last", [False, True])
def test_iterable_dataset(drop_last):
    ours = pud.DataLoader(_Stream(7), batch_size=3, drop_last=drop_last)
    theirs = tud.DataLoader(_TorchStream(7), batch_size=3, drop_last=drop_last)
    assert len(ours) == len(theirs)
    for a, b in zip(list(ours), list(theirs), strict=True):
        assert_same(a, b)
    for a, b in zip(pud.DataLoader(_Stream(3), batch_size=None), tud.DataLoader(_TorchStream(3), batch_size=None)):
        assert a == b
    with pytest.raises(ValueError):
        pud.DataLoader(_Stream(3), shuffle=True)
    chained = _Stream(2) + _Stream(3)
    assert list(chained) == [0, 1, 0, 1, 2] and len(chained) == 5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sampler": [0, 1], "shuffle": True},
        {"batch_sampler": [[0]], "batch_size": 2},
        {"batch_sampler": [[0]], "drop_last": True},
        {"batch_size": None, "drop_last": True},
        {"num_workers": -1},
    ],
)
def test_dataloader_invalid_options_like_torch(kwargs):
    ours_ds, torch_ds = tensor_datasets(3)
    with pytest.raises(ValueError):
        pud.DataLoader(ours_ds, **kwargs)
    with pytest.raises(ValueError):
        tud.DataLoader(torch_ds, **kwargs)


def test_num_workers_warns_and_loads_in_process():
    ours_ds, _ = tensor_datasets(4)
    with pytest.warns(UserWarning, match="num_workers"):
        loader = pud.DataLoader(ours_ds, batch_size=2, num_workers=2, pin_memory=True)
    assert [y.tolist() for _, y in loader] == [[0, 1], [2, 3]]


@pytest.mark.parametrize(
    "lengths", [[3, 7], [0.3, 0.7], [0.5, 0.5], [0.33, 0.33, 0.34], [1 / 3] * 3, [0.25] * 4, [1, 2, 3, 4]]
)
def test_random_split_lengths_match_torch(lengths):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = pud.random_split(list(range(10)), lengths)
        theirs = tud.random_split(list(range(10)), lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert sorted(i for s in ours for i in s) == list(range(10))


def test_random_split_errors_and_reproducibility():
    with pytest.raises(ValueError, match="Sum of input lengths"):
        pud.random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="Fraction"):
        pud.random_split(range(10), [1.5, -0.5])
    a = [list(s) for s in pud.random_split(range(10), [4, 6], generator=np.random.default_rng(0))]
    b = [list(s) for s in pud.random_split(range(10), [4, 6], generator=np.random.default_rng(0))]
    assert a == b
    pdl.manual_seed(3)
    c = [list(s) for s in pud.random_split(range(10), [0.5, 0.5])]
    pdl.manual_seed(3)
    assert c == [list(s) for s in pud.random_split(range(10), [0.5, 0.5])]


def test_training_loop_shapes():
    ours_ds, _ = tensor_datasets(10)
    shapes = [(tuple(x.shape), tuple(y.shape), x.dtype, y.dtype) for x, y in pud.DataLoader(ours_ds, batch_size=4)]
    assert shapes[0] == ((4, 3), (4,), pdl.float32, pdl.int64)
    assert shapes[-1][:2] == ((2, 3), (2,))


def test_weighted_random_sampler():
    pdl.manual_seed(0)
    draws = list(pud.WeightedRandomSampler([0.0, 1.0, 3.0], 4000))
    assert len(draws) == 4000 and set(draws) == {1, 2}
    assert abs(draws.count(2) / 4000 - 0.75) < 0.05
    no_repl = list(pud.WeightedRandomSampler(pdl.tensor([1.0, 1.0, 1.0, 0.0]), 3, replacement=False))
    assert sorted(no_repl) == [0, 1, 2]
    assert len(pud.WeightedRandomSampler([1, 2], 7)) == len(tud.WeightedRandomSampler([1, 2], 7)) == 7
    with pytest.raises(RuntimeError):
        list(pud.WeightedRandomSampler([1.0, 0.0], 2, replacement=False))
    with pytest.raises(ValueError):
        pud.WeightedRandomSampler([1.0], 0)
    assert pud.get_worker_info() is None and tud.get_worker_info() is None
