import numpy as np
import pytest

from multimodal_deterioration.errors import PipelineError
from multimodal_deterioration.vitals import load_vitals

from conftest import make_vitals


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
        (changed(BASE, X_train=BASE["X_train"][:, :, 0]), r"X_train has shape \(20, 5\), expected 3"),
        (changed(BASE, X_val=BASE["X_val"][:, :, :4]), r"feature count differs between splits"),
        (changed(BASE, X_val=BASE["X_val"][:, :3, :]), r"number of time steps differs"),
        (changed(BASE, y_train=BASE["y_train"][:-1]), r"19 labels but X_train has 20 samples"),
        (changed(BASE, y_val=np.array([0, 1, 2, 0, 1, 0])), r"y_val is not binary \(found values \[2\]\)"),
        (changed(BASE, X_test=np.where(np.arange(5)[None, :, None] == 2, np.nan, BASE["X_test"])), r"X_test contains 36 NaN"),
        (changed(BASE, ids_train=BASE["ids_train"][:3]), r"ids_train has shape \(3,\), expected \(20,\)"),
        (changed(BASE, feature_names=np.array(["a", "b"])), r"feature_names lists 2 names"),
        (changed(BASE, X_train=BASE["X_train"][:0]), r"X_train has no samples"),
    ],
)
def test_contract_violations_name_the_key_and_the_fix(tmp_path, arrays, message):
    with pytest.raises(PipelineError, match=message):
        load_vitals(save(tmp_path, arrays))


def test_missing_file_points_to_vitals_flag_and_demo(tmp_path):
    with pytest.raises(PipelineError, match=r"not found; pass your file with --vitals, or run with --demo"):
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
