import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.contract.multimodal_data import MultimodalData, MultimodalSplit
from multimodal_deterioration.evidence.resplits import resplit, run_resplits
from multimodal_deterioration.learning.experiment import ExperimentConfig, run_experiment
from multimodal_deterioration.learning.training import TrainingConfig

CPU = torch.device("cpu")
SPLITS = ("train", "val", "test")
SHARES = (0.6, 0.2, 0.2)
STEPS, FEATURES, TEXT_DIM = 4, 3, 8
QUICK = TrainingConfig(epochs=2, patience=1, batch_size=16)


def make_data(n_ids=60, positive_ids=0.35, with_ids=True, seed=0) -> MultimodalData:
    """Ids with 1-4 rows each, split by id in order; row r carries r in X_vital[:, 0, 0] and
    X_text[:, 0] so every array can be traced back to its original row."""
    rng = np.random.default_rng(seed)
    rows_per_id = rng.integers(1, 5, size=n_ids)
    id_positive = rng.random(n_ids) < positive_ids
    ids, y = [], []
    for patient, (n_rows, positive) in enumerate(zip(rows_per_id, id_positive)):
        labels = (rng.random(n_rows) < 0.6).astype(np.int64) if positive else np.zeros(n_rows, int)
        labels[-1] = int(positive)
        ids += [f"P{patient:03d}"] * n_rows
        y += labels.tolist()
    ids, y = np.array(ids), np.array(y, dtype=np.int64)
    n = len(y)
    X_vital = rng.normal(size=(n, STEPS, FEATURES)).astype(np.float32)
    X_vital[:, :, 1] += y[:, None]  # learnable, so both models produce real AUROCs
    X_vital[:, 0, 0] = np.arange(n)
    X_text = rng.normal(size=(n, TEXT_DIM)).astype(np.float32)
    X_text[:, 0] = np.arange(n)
    note_index = np.where(rng.random(n) < 0.8, rng.integers(0, 3 * n, size=n), -1)
    note_count = (note_index >= 0).astype(np.int64) * rng.integers(1, 4, size=n)
    id_cuts = np.round(np.cumsum(SHARES)[:-1] * n_ids).astype(int)
    split_of_id = np.searchsorted(id_cuts, np.arange(n_ids), side="right")
    split_of_row = split_of_id[np.array([int(i[1:]) for i in ids])]
    splits = {}
    for index, name in enumerate(SPLITS):
        rows = split_of_row == index
        splits[name] = MultimodalSplit(
            X_vital[rows],
            X_text[rows],
            y[rows],
            note_index[rows],
            ids[rows] if with_ids else None,
            note_count[rows],
        )
    return MultimodalData(splits, {"pairing": {"method": "test"}}, ("a", "b", "c"), None)


def pooled(data: MultimodalData, field: str) -> np.ndarray:
    return np.concatenate([getattr(data.splits[name], field) for name in SPLITS])


def fingerprint(split: MultimodalSplit) -> np.ndarray:
    return split.X_vital[:, 0, 0].astype(int)


def test_grouped_resplit_never_puts_an_id_in_two_splits():
    data = make_data()
    for seed in range(10):
        redrawn = resplit(data, seed)
        id_sets = [set(redrawn.splits[name].ids.tolist()) for name in SPLITS]
        for a in range(3):
            for b in range(a + 1, 3):
                assert not id_sets[a] & id_sets[b], (seed, SPLITS[a], SPLITS[b])


def test_every_row_is_kept_exactly_once_with_its_arrays_aligned():
    data = make_data()
    original = {field: pooled(data, field) for field in ("X_vital", "X_text", "y", "ids")}
    original["note_index"] = pooled(data, "note_index")
    original["note_count"] = pooled(data, "note_count")
    redrawn = resplit(data, 4)
    rows = np.concatenate([fingerprint(redrawn.splits[name]) for name in SPLITS])
    np.testing.assert_array_equal(np.sort(rows), np.arange(len(original["y"])))
    for name in SPLITS:
        split = redrawn.splits[name]
        source = fingerprint(split)
        np.testing.assert_array_equal(split.X_vital, original["X_vital"][source])
        np.testing.assert_array_equal(split.X_text, original["X_text"][source])
        for field in ("y", "ids", "note_index", "note_count"):
            np.testing.assert_array_equal(getattr(split, field), original[field][source], field)
    assert redrawn.meta == data.meta and redrawn.feature_names == data.feature_names


@pytest.mark.parametrize("with_ids", [True, False])
def test_sizes_and_positives_match_the_original_shares_within_one_group(with_ids):
    data = make_data(n_ids=80, with_ids=with_ids)
    y = pooled(data, "y")
    groups = pooled(data, "ids") if with_ids else np.arange(len(y))
    largest_group = max(np.sum(groups == g) for g in np.unique(groups))
    most_positives = max(y[groups == g].sum() for g in np.unique(groups))
    shares = np.array([len(data.splits[name]) for name in SPLITS]) / len(y)
    for seed in range(10):
        redrawn = resplit(data, seed)
        for share, name in zip(shares, SPLITS):
            split = redrawn.splits[name]
            assert abs(len(split) - share * len(y)) <= largest_group, (seed, name)
            assert abs(split.y.sum() - share * y.sum()) <= most_positives, (seed, name)


def test_a_redraw_is_fixed_by_its_seed_and_differs_between_seeds():
    data = make_data()
    first, again, other = resplit(data, 3), resplit(data, 3), resplit(data, 4)
    for name in SPLITS:
        np.testing.assert_array_equal(
            fingerprint(first.splits[name]), fingerprint(again.splits[name])
        )
    assert not np.array_equal(fingerprint(first.splits["test"]), fingerprint(other.splits["test"]))


def test_a_redraw_that_leaves_a_split_without_positives_is_refused():
    data = make_data(n_ids=30, positive_ids=0.0)
    # Two positive ids cannot reach three splits.
    y = {name: split.y.copy() for name, split in data.splits.items()}
    y["train"][[0, -1]] = 1
    tiny = MultimodalData(
        {
            name: MultimodalSplit(s.X_vital, s.X_text, y[name], s.note_index, s.ids, s.note_count)
            for name, s in data.splits.items()
        },
        data.meta,
    )
    with pytest.raises(PipelineError, match="more data or fewer resplits"):
        resplit(tiny, 0)
    with pytest.raises(PipelineError, match="more data or fewer resplits"):
        run_resplits(tiny, ExperimentConfig(training=QUICK), 2, CPU, log=None, progress=False)


@pytest.mark.parametrize("k", [0, 1, 2.5, True])
def test_fewer_than_two_resplits_or_a_non_integer_is_refused(k):
    with pytest.raises(PipelineError, match="at least 2"):
        run_resplits(
            make_data(), ExperimentConfig(training=QUICK), k, CPU, log=None, progress=False
        )


@pytest.fixture(scope="module")
def resplit_run():
    data = make_data()
    # Extra seeds and the controls must be dropped: each redraw trains the main seed only.
    config = ExperimentConfig(training=QUICK, seeds=(7, 8), ablations=True)
    return data, run_resplits(data, config, 3, CPU, seed=5, log=None, progress=False)


def test_each_redraw_reports_the_aurocs_of_its_own_test_split(resplit_run):
    data, result = resplit_run
    assert result["k"] == 3 and result["grouped_by"] == "sample id"
    assert [row["seed"] for row in result["per_split"]] == [5, 6, 7]
    row = result["per_split"][1]
    redrawn = resplit(data, 6)
    reference = run_experiment(
        redrawn, ExperimentConfig(training=QUICK, seeds=(7,)), CPU, log=None, progress=False
    )
    y_test = redrawn.splits["test"].y
    assert row["test_samples"] == len(y_test) and row["test_positives"] == y_test.sum()
    assert row["multimodal_auroc"] == pytest.approx(
        roc_auc_score(y_test, reference.models["multimodal"].test_prob)
    )
    assert row["vital_only_auroc"] == pytest.approx(
        roc_auc_score(y_test, reference.models["vital_only"].test_prob)
    )


def test_the_summary_is_numpys_over_the_redraws(resplit_run):
    _, result = resplit_run
    rows = result["per_split"]
    assert len(rows) == 3
    for row in rows:
        assert row["difference"] == pytest.approx(row["multimodal_auroc"] - row["vital_only_auroc"])
    for key, column in (
        ("multimodal", "multimodal_auroc"),
        ("vital_only", "vital_only_auroc"),
        ("difference", "difference"),
    ):
        values = np.array([row[column] for row in rows])
        assert result["mean"][key] == pytest.approx(np.mean(values))
        assert result["sd"][key] == pytest.approx(np.std(values, ddof=1))
    differences = [row["difference"] for row in rows]
    assert result["difference_range"] == pytest.approx([min(differences), max(differences)])
    assert result["splits_multimodal_better"] == sum(d > 0 for d in differences)
    assert "fixed split" in result["note"]


def test_notes_spread_over_several_splits_are_counted(resplit_run):
    data, result = resplit_run
    for row in result["per_split"]:
        redrawn = resplit(data, row["seed"])
        splits_of_note = {}
        for name in SPLITS:
            for note in redrawn.splits[name].note_index:
                if note >= 0:
                    splits_of_note.setdefault(int(note), set()).add(name)
        expected = sum(len(names) > 1 for names in splits_of_note.values())
        assert row["notes_in_several_splits"] == expected
