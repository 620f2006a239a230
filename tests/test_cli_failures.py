"""Bad input to either script: one line on stderr naming the problem, exit 2, nothing written.

Every case runs the real command line as a user would. Preparation must fail before the
embedding model loads (vitals are checked first, notes next), so each run takes seconds; the
training data here is tiny and every failure comes before training starts. A checkpoint asked to
predict on data of another layout is refused in the same way, and degenerate but legal input
(a single time step) keeps working.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from multimodal_deterioration.base import artifacts
from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.learning.model import ModelConfig, build_model
from multimodal_deterioration.learning.training import (
    TrainingConfig,
    predict_proba,
    train_model,
)
from multimodal_deterioration.preparation.vitals import load_vitals

from helpers import make_vitals, note_records, run_script, tiny_data, with_non_finite, write_jsonl

# Each test runs a script end to end as a subprocess: deselect with -m 'not slow'.
pytestmark = pytest.mark.slow

PREPARE = "download_and_prepare_clinical_notes.py"
TRAIN = "train_multimodal_lstm.py"
PREPARED = (
    "clinical_notes_raw.parquet",
    "clinical_features.csv",
    "clinical_embeddings.npy",
    "multimodal_data.npz",
)
TRAINED = (
    "best_multimodal_model.pt",
    "multimodal_results.json",
    "test_predictions.csv",
    "multimodal_training_curves.png",
)
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
needs_non_root = pytest.mark.skipif(AS_ROOT, reason="root ignores file permissions")


def assert_clean_failure(result, out_dir: Path, outputs: tuple[str, ...], pattern: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr[-3000:])
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert re.search(pattern, lines[0]), lines[0]
    for name in outputs:
        assert not (out_dir / name).exists(), name


def unreadable(path: Path) -> Path:
    path.chmod(0)
    return path


def read_only_dir(path: Path) -> Path:
    path.mkdir()
    path.chmod(0o555)
    return path


# --------------------------------------------------------------------------- preparation


def write_text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def save_vitals(directory: Path, **changes) -> Path:
    """make_vitals() without ids, with keys replaced (or removed, given None)."""
    arrays = {**make_vitals(ids=False), **changes}
    path = directory / "processed_data.npz"
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return path


def save_notes(directory: Path) -> Path:
    return write_jsonl(directory / "n.jsonl", note_records())


VITALS = make_vitals(ids=False)

# Each case writes its inputs into a directory and returns (vitals, notes, further arguments).
PREPARE_FAILURES = [
    pytest.param(
        lambda d: (d / "absent.npz", save_notes(d), []),
        r"vital-sign file \S*absent\.npz not found; pass your file with --vitals",
        id="missing vitals",
    ),
    pytest.param(
        lambda d: (unreadable(save_vitals(d)), save_notes(d), []),
        r"cannot read vital-sign file \S*processed_data\.npz \(Permission denied\)",
        id="unreadable vitals",
        marks=needs_non_root,
    ),
    pytest.param(
        lambda d: (write_text(d / "v.npz", "X_train,y_train\n1,0\n"), save_notes(d), []),
        r"vital-sign file \S*v\.npz is not an \.npz archive; save it with numpy\.savez",
        id="vitals not an npz",
    ),
    pytest.param(
        lambda d: (save_vitals(d, X_val=None), save_notes(d), []),
        r"processed_data\.npz has no key 'X_val' .*; keys found: X_test, X_train, feature_names",
        id="vitals missing a key",
    ),
    pytest.param(
        lambda d: (save_vitals(d, X_train=VITALS["X_train"][:, :, 0]), save_notes(d), []),
        r"processed_data\.npz: X_train has shape \(20, 5\), expected 3 dimensions",
        id="vitals of the wrong rank",
    ),
    pytest.param(
        lambda d: (save_vitals(d, X_test=VITALS["X_test"][:, :, :4]), save_notes(d), []),
        r"processed_data\.npz: the feature count differs between splits .*'test': 4",
        id="vitals feature count differs between splits",
    ),
    pytest.param(
        lambda d: (save_vitals(d, y_val=VITALS["y_val"][:-1]), save_notes(d), []),
        r"processed_data\.npz: y_val has 5 labels but X_val has 6 samples",
        id="vitals X and y of different lengths",
    ),
    pytest.param(
        lambda d: (save_vitals(d, y_train=VITALS["y_train"] * 2), save_notes(d), []),
        r"processed_data\.npz: y_train is not binary \(found values \[2\]\)",
        id="vitals labels not binary",
    ),
    pytest.param(
        lambda d: (
            save_vitals(d, X_test=with_non_finite(VITALS["X_test"], 3, 2)),
            save_notes(d),
            [],
        ),
        r"processed_data\.npz: X_test contains 5 NaN or infinite values in 2 of 6 test samples",
        id="vitals with NaN and infinity",
    ),
    pytest.param(
        lambda d: (save_vitals(d), d / "absent.jsonl", []),
        r"notes file \S*absent\.jsonl not found; check the path given to --notes",
        id="missing notes",
    ),
    pytest.param(
        lambda d: (save_vitals(d), unreadable(save_notes(d)), []),
        r"cannot read notes file \S*n\.jsonl \(Permission denied\)",
        id="unreadable notes",
        marks=needs_non_root,
    ),
    pytest.param(
        lambda d: (
            save_vitals(d),
            write_text(d / "n.jsonl", '{"note": "fever"}\n{note: cough\n'),
            [],
        ),
        r"cannot read notes file \S*n\.jsonl as \.jsonl \(JSON parse error",
        id="notes not JSON lines",
    ),
    pytest.param(
        lambda d: (save_vitals(d), write_text(d / "n.csv", 'idx,note\n1,"fever\n2,cough\n'), []),
        r"cannot read notes file \S*n\.csv as \.csv \(Error tokenizing data",
        id="notes a bad CSV",
    ),
    pytest.param(
        lambda d: (save_vitals(d), write_text(d / "n.parquet", "idx,note\n1,fever\n"), []),
        r"cannot read notes file \S*n\.parquet as \.parquet \(Parquet magic bytes not found",
        id="notes a bad parquet",
    ),
    pytest.param(
        lambda d: (save_vitals(d), save_notes(d), ["--text-column", "text"]),
        r"notes in \S*n\.jsonl have no text column 'text' \(columns: idx, note, full_note",
        id="notes without the text column",
    ),
    pytest.param(
        lambda d: (save_vitals(d), write_text(d / "n.jsonl", ""), []),
        r"notes file \S*n\.jsonl is empty; it needs one note per row or line",
        id="empty notes file",
    ),
    pytest.param(
        lambda d: (save_vitals(d), save_notes(d), ["--split", "train[50:]"]),
        r"split 'train\[50:\]' of \S*n\.jsonl contains no notes; check the file or widen --split",
        id="notes split with no rows",
    ),
    pytest.param(
        lambda d: (save_vitals(d), save_notes(d), ["--split", "train[:2]"]),
        r"2 note\(s\) cannot be divided into 3 disjoint pools",
        id="fewer notes than splits",
    ),
    pytest.param(
        lambda d: (
            save_vitals(
                d,
                ids_train=np.array([f"X{i}" for i in range(20)]),
                ids_val=np.array([f"Y{i}" for i in range(6)]),
                ids_test=np.array([f"Z{i}" for i in range(6)]),
            ),
            save_notes(d),
            ["--id-column", "patient_id", "--pairing", "id"],
        ),
        r"no sample id matches a note id .*; check --id-column",
        id="pairing by id with no matching ids",
    ),
    pytest.param(
        lambda d: (
            save_vitals(d),
            save_notes(d),
            ["--out-dir", str(write_text(d / "f", "") / "out")],
        ),
        r"cannot write to output directory \S*f/out: .*; choose another with --out-dir",
        id="output directory under a file",
    ),
    pytest.param(
        lambda d: (save_vitals(d), save_notes(d), ["--out-dir", str(read_only_dir(d / "ro"))]),
        r"cannot write to output directory \S*ro: Permission denied; choose another with --out-dir",
        id="output directory not writable",
        marks=needs_non_root,
    ),
]


@pytest.mark.parametrize("make_inputs, message", PREPARE_FAILURES)
def test_preparation_rejects_bad_input_in_one_line_before_any_expensive_step(
    tmp_path, make_inputs, message
):
    vitals, notes, extra = make_inputs(tmp_path)
    out_dir = tmp_path / "out"
    args = ["--vitals", str(vitals), "--notes", str(notes), "--out-dir", str(out_dir), *extra]
    result = run_script(PREPARE, *args, timeout=120)
    assert_clean_failure(result, out_dir, PREPARED, message)
    assert "== Features" not in result.stdout and "== Embeddings" not in result.stdout


# --------------------------------------------------------------------------- training


TINY = tiny_data()


def save_data(directory: Path, **changes) -> Path:
    """tiny_data() with keys replaced (or removed, given None)."""
    arrays = {**TINY, **changes}
    path = directory / "multimodal_data.npz"
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return path


# Each case writes its inputs into a directory and returns (data file, further arguments).
TRAIN_FAILURES = [
    pytest.param(
        lambda d: (d / "absent.npz", []),
        r"data file \S*absent\.npz not found; run download_and_prepare_clinical_notes\.py first",
        id="missing data",
    ),
    pytest.param(
        lambda d: (unreadable(save_data(d)), []),
        r"cannot read data file \S*multimodal_data\.npz \(Permission denied\)",
        id="unreadable data",
        marks=needs_non_root,
    ),
    pytest.param(
        lambda d: (write_text(d / "multimodal_data.npz", "not an archive"), []),
        r"data file \S*multimodal_data\.npz is not an \.npz archive; re-create it",
        id="data not an npz",
    ),
    pytest.param(
        lambda d: (save_data(d, X_text_val=None), []),
        r"multimodal_data\.npz has no key 'X_text_val' .*; keys found: X_text_test, X_text_train",
        id="data missing a key",
    ),
    pytest.param(
        lambda d: (save_data(d, X_vital_train=TINY["X_vital_train"][:, :, 0]), []),
        r"multimodal_data\.npz: X_vital_train has shape \(8, 3\), expected 3 dimensions",
        id="data of the wrong rank",
    ),
    pytest.param(
        lambda d: (save_data(d, X_vital_val=TINY["X_vital_val"][:, :, :1]), []),
        r"multimodal_data\.npz: splits differ in time steps, vital features or text dimension",
        id="data feature count differs between splits",
    ),
    pytest.param(
        lambda d: (save_data(d, y_val=TINY["y_val"][:-1]), []),
        r"multimodal_data\.npz: split 'val' has 6 vital rows, 6 text rows and 5 labels",
        id="data X and y of different lengths",
    ),
    pytest.param(
        lambda d: (save_data(d, y_train=TINY["y_train"] - 1), []),
        r"multimodal_data\.npz: y_train is not binary \(found values \[-1\]\)",
        id="data labels not binary",
    ),
    pytest.param(
        lambda d: (save_data(d, X_vital_val=with_non_finite(TINY["X_vital_val"], 2, 1)), []),
        r"multimodal_data\.npz: X_vital_val contains 3 NaN or infinite values in 2 of 6 val "
        r"samples",
        id="data with NaN and infinity",
    ),
    pytest.param(
        lambda d: (save_data(d, y_val=np.zeros(6, dtype=int)), []),
        r"multimodal_data\.npz: the val split has only label 0 \(6 samples\); AUROC is undefined",
        id="a split with one class",
    ),
    pytest.param(
        lambda d: (save_data(d, y_test=np.array([1, 0, 0, 0, 0, 0])), []),
        r"multimodal_data\.npz: the test split has 1 positive and 5 negative samples; DeLong",
        id="a test split too small for DeLong's test",
    ),
    pytest.param(
        lambda d: (
            save_data(
                d,
                y_test=np.array([1, 1, 0, 0, 0, 0]),
                ids_train=np.array([f"t{i}" for i in range(8)]),
                ids_val=np.array([f"v{i}" for i in range(6)]),
                ids_test=np.array(["a", "a", "b", "c", "d", "e"]),
            ),
            [],
        ),
        r"multimodal_data\.npz: the test split's samples come from 1 id\(s\) with a positive "
        r"sample and 4 with a negative one; the clustered DeLong test needs at least 2",
        id="repeated test ids with one positive patient",
    ),
    pytest.param(
        lambda d: (save_data(d), ["--vitals", str(d / "absent.npz")]),
        r"vital-sign file \S*absent\.npz not found",
        id="missing labels file",
    ),
    pytest.param(
        lambda d: (save_data(d), ["--out-dir", str(write_text(d / "f", "") / "out")]),
        r"cannot write to output directory \S*f/out: .*; choose another with --out-dir",
        id="output directory under a file",
    ),
    pytest.param(
        lambda d: (save_data(d), ["--out-dir", str(read_only_dir(d / "ro"))]),
        r"cannot write to output directory \S*ro: Permission denied; choose another with --out-dir",
        id="output directory not writable",
        marks=needs_non_root,
    ),
]


@pytest.mark.parametrize("make_inputs, message", TRAIN_FAILURES)
def test_training_rejects_bad_input_in_one_line_before_training(tmp_path, make_inputs, message):
    data, extra = make_inputs(tmp_path)
    out_dir = tmp_path / "out"
    args = ["--data", str(data), "--out-dir", str(out_dir), *extra]
    result = run_script(TRAIN, *args, "--epochs", "1", "--bootstrap", "10", timeout=120)
    assert_clean_failure(result, out_dir, TRAINED, message)
    assert "== Training" not in result.stdout


def test_debug_shows_the_traceback(tmp_path):
    result = run_script(
        TRAIN, "--data", str(tmp_path / "absent.npz"), "--out-dir", str(tmp_path), "--debug"
    )
    assert result.returncode != 0
    assert "Traceback" in result.stderr
    assert "PipelineError: data file" in result.stderr


def test_a_file_that_cannot_be_opened_is_reported_as_unreadable_not_as_malformed(
    tmp_path, monkeypatch
):
    """What a chmod 000 file does for a user who is not root, simulated so it runs as root too."""
    path = save_vitals(tmp_path)

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(artifacts, "open", denied, raising=False)
    with pytest.raises(
        PipelineError, match=r"cannot read vital-sign file .* \(Permission denied\)"
    ):
        load_vitals(path)


# --------------------------------------------------------------------------- degenerate, legal


def test_a_single_time_step_is_legal_input_that_trains_and_predicts(tmp_path):
    path = tmp_path / "processed_data.npz"
    np.savez(path, **make_vitals(sizes=(20, 8, 8), n_steps=1))
    vitals = load_vitals(path)
    assert vitals.n_timesteps == 1
    rng = np.random.default_rng(0)
    train, val = (
        (split.X, rng.normal(size=(len(split), 4)).astype(np.float32), split.y)
        for split in (vitals.splits["train"], vitals.splits["val"])
    )
    network = build_model(ModelConfig("multimodal", n_vital_features=6, text_dim=4))
    config = TrainingConfig(epochs=1, patience=1)
    train_model(network, train, val, config, torch.device("cpu"), seed=42, log=None, progress=False)
    probabilities = predict_proba(network, val[0], val[1], torch.device("cpu"))
    assert probabilities.shape == (8,) and np.isfinite(probabilities).all()
