import numpy as np
import pytest

from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.preparation.vitals import load_vitals

from helpers import make_vitals


def save(tmp_path, arrays, name="processed_data.npz"):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def test_valid_file_loads_every_split_with_ids_and_names(tmp_path):
    vitals = load_vitals(save(tmp_path, make_vitals()))
    assert {name: len(s) for name, s in vitals.splits.items()} == {"train": 20, "val": 6, "test": 6}
    assert vitals.n_features == 6 and vitals.n_timesteps == 5 and vitals.has_ids
    assert vitals.feature_names == tuple(f"v{i}" for i in range(6))
    assert vitals.splits["train"].X.dtype == np.float32
    assert vitals.splits["train"].y.dtype == np.int64


def test_column_labels_and_missing_ids_are_accepted(tmp_path):
    arrays = make_vitals(ids=False)
    arrays["y_train"] = arrays["y_train"].reshape(-1, 1).astype(np.float64)
    vitals = load_vitals(save(tmp_path, arrays))
    assert vitals.splits["train"].y.shape == (20,)
    assert not vitals.has_ids


def without(arrays, key):
    return {k: v for k, v in arrays.items() if k != key}


def changed(arrays, **updates):
    return {**arrays, **updates}


BASE = make_vitals()


@pytest.mark.parametrize(
    "arrays, message",
    [
        (without(BASE, "X_val"), r"no key 'X_val'.*keys found: .*X_test"),
        (without(BASE, "y_test"), r"no key 'y_test'"),
        (
            changed(BASE, X_train=BASE["X_train"][:, :, 0]),
            r"X_train has shape \(20, 5\), expected 3",
        ),
        (changed(BASE, X_val=BASE["X_val"][:, :, :4]), r"feature count differs between splits"),
        (changed(BASE, X_val=BASE["X_val"][:, :3, :]), r"number of time steps differs"),
        (changed(BASE, y_train=BASE["y_train"][:-1]), r"19 labels but X_train has 20 samples"),
        (
            changed(BASE, y_val=np.array([0, 1, 2, 0, 1, 0])),
            r"y_val is not binary \(found values \[2\]\)",
        ),
        (
            changed(
                BASE, X_test=np.where(np.arange(5)[None, :, None] == 2, np.nan, BASE["X_test"])
            ),
            r"X_test contains 36 NaN",
        ),
        (
            changed(BASE, ids_train=BASE["ids_train"][:3]),
            r"ids_train has shape \(3,\), expected \(20,\)",
        ),
        (changed(BASE, feature_names=np.array(["a", "b"])), r"feature_names lists 2 names"),
        (changed(BASE, X_train=BASE["X_train"][:0]), r"X_train has no samples"),
    ],
)
def test_contract_violations_name_the_key_and_the_fix(tmp_path, arrays, message):
    with pytest.raises(PipelineError, match=message):
        load_vitals(save(tmp_path, arrays))


def test_missing_file_points_to_vitals_flag_and_demo(tmp_path):
    with pytest.raises(
        PipelineError, match=r"not found; pass your file with --vitals, or run with --demo"
    ):
        load_vitals(tmp_path / "absent.npz")


def test_a_file_that_is_not_an_npz_is_explained(tmp_path):
    path = tmp_path / "processed_data.npz"
    path.write_text("X_train,y_train\n1,0\n")
    with pytest.raises(PipelineError, match="is not an .npz archive; save it with numpy.savez"):
        load_vitals(path)


def test_pickled_object_arrays_are_refused_with_the_fix(tmp_path):
    arrays = changed(BASE, ids_train=np.array([object()] * 20, dtype=object))
    with pytest.raises(PipelineError, match="string arrays"):
        load_vitals(save(tmp_path, arrays))


def with_times(arrays, **per_split):
    return {**arrays, **{f"times_{split}": times for split, times in per_split.items()}}


def hourly(n, start="2130-01-01T00:00:00"):
    return np.datetime64(start) + np.arange(n) * np.timedelta64(1, "h")


def test_prediction_times_load_as_datetimes_from_datetime64_or_iso_text_and_as_numbers(tmp_path):
    as_datetimes = with_times(BASE, train=hourly(20), val=hourly(6), test=hourly(6).astype(str))
    vitals = load_vitals(save(tmp_path, as_datetimes))
    assert vitals.has_times
    assert vitals.splits["test"].times.kind == "datetime"
    train_times = vitals.splits["train"].times
    assert train_times.values[1] - train_times.values[0] == train_times.hours(1)
    as_hours = with_times(
        BASE, train=np.arange(20.0), val=np.arange(6), test=np.arange(6.0)[:, None]
    )
    assert load_vitals(save(tmp_path, as_hours)).splits["test"].times.kind == "numeric"
    assert not load_vitals(save(tmp_path, BASE)).has_times


@pytest.mark.parametrize(
    "times, message",
    [
        ({"train": hourly(20), "val": hourly(6)}, r"not times_test"),
        (
            {"train": hourly(20), "val": hourly(6), "test": hourly(5)},
            r"times_test has shape \(5,\)",
        ),
        ({"train": hourly(20), "val": hourly(6), "test": np.arange(6.0)}, "not all of one kind"),
        (
            {
                "train": hourly(20),
                "val": hourly(6),
                "test": np.array(["2130-01-01"] * 5 + ["soon"]),
            },
            "'soon', which is neither a number nor an ISO-8601 datetime",
        ),
        (
            {"train": hourly(20), "val": hourly(6), "test": np.array([1.0, 2, 3, 4, 5, np.nan])},
            "times_test has 1 missing time",
        ),
    ],
)
def test_bad_prediction_times_are_explained(tmp_path, times, message):
    with pytest.raises(PipelineError, match=message):
        load_vitals(save(tmp_path, with_times(BASE, **times)))


def test_integral_float_ids_read_as_integers_so_they_match_note_ids(tmp_path):
    arrays = changed(BASE, ids_test=np.array([101.0, 102, 103, 104, 105, 106]))
    assert load_vitals(save(tmp_path, arrays)).splits["test"].ids.tolist() == [
        "101",
        "102",
        "103",
        "104",
        "105",
        "106",
    ]
