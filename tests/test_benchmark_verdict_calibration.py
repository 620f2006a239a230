"""The verdict-calibration benchmark: its replicate data files, its counts, and one tiny run.

The data-building tests use a small synthetic file in which every per-sample array encodes its
row's number, so that alignment after subsetting and permuting can be read off directly. The
end-to-end test (slow) prepares a 200-patient demo and trains one null and one real replicate
for one epoch.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import binomtest

from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.contract.multimodal_data import load_multimodal_data

from helpers import REPO_ROOT, load_module, run_script

SCRIPT = REPO_ROOT / "benchmarks" / "benchmark_verdict_calibration.py"
SPLITS = ("train", "val", "test")
SIZES = {"train": 60, "val": 30, "test": 40}
TEXT_DIM = 5


bench = load_module(SCRIPT)


def synthetic_arrays() -> dict[str, np.ndarray]:
    """A multimodal_data.npz payload whose per-sample arrays all encode the row number r."""
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in SIZES.items():
        rows = np.arange(n)
        y = (rng.random(n) < 0.3).astype(np.int64)
        y[:3], y[3:6] = 1, 0
        arrays[f"X_vital_{split}"] = np.broadcast_to(rows[:, None, None], (n, 4, 3)).astype(
            np.float32
        )
        arrays[f"X_text_{split}"] = (rows[:, None] * 10 + np.arange(TEXT_DIM)).astype(np.float32)
        arrays[f"y_{split}"] = y
        arrays[f"ids_{split}"] = np.array([f"{split}-{r}" for r in rows])
        arrays[f"times_{split}"] = np.datetime64("2024-01-01T00:00") + rows.astype("timedelta64[h]")
        arrays[f"note_index_{split}"] = rows.astype(np.int64)
        arrays[f"note_count_{split}"] = (rows % 3).astype(np.int64)
    arrays["feature_names"] = np.array(["hr", "rr", "spo2"])
    arrays["meta"] = np.array(json.dumps({"demo": True, "synthetic": True, "seed": 42}))
    return arrays


def replicate(k: int = 0, fraction: float = 0.5, seed: int = 0) -> dict:
    return bench.build_replicate(synthetic_arrays(), k, fraction, seed, {"path": "x.npz"})


def row_numbers(arrays: dict, split: str) -> np.ndarray:
    return arrays[f"X_vital_{split}"][:, 0, 0].astype(int)


def test_each_split_is_a_stratified_subset_aligned_row_for_row():
    source = synthetic_arrays()
    real = replicate(k=3)["real"]
    for split in SPLITS:
        rows = row_numbers(real, split)
        assert np.all(np.diff(rows) > 0), "distinct rows, in their original order"
        labels = source[f"y_{split}"]
        for label in (0, 1):
            expected = max(2, round(0.5 * int(np.sum(labels == label))))
            assert int(np.sum(real[f"y_{split}"] == label)) == expected
        # every per-sample array holds the same source rows
        np.testing.assert_array_equal(real[f"X_vital_{split}"], source[f"X_vital_{split}"][rows])
        np.testing.assert_array_equal(real[f"X_text_{split}"], source[f"X_text_{split}"][rows])
        np.testing.assert_array_equal(real[f"y_{split}"], labels[rows])
        for key in ("ids", "times", "note_index", "note_count"):
            np.testing.assert_array_equal(real[f"{key}_{split}"], source[f"{key}_{split}"][rows])
            assert real[f"{key}_{split}"].dtype == source[f"{key}_{split}"].dtype
    np.testing.assert_array_equal(real["feature_names"], source["feature_names"])


def test_the_null_twin_permutes_only_the_notes_within_each_split():
    files = replicate(k=1)
    real, null = files["real"], files["null"]
    assert set(real) == set(null) == set(synthetic_arrays())
    for split in SPLITS:
        real_text, null_text = real[f"X_text_{split}"], null[f"X_text_{split}"]
        assert not np.array_equal(real_text, null_text)
        # the same rows, in another order: each null row is one of this split's real rows
        order = np.argsort(real_text[:, 0])
        np.testing.assert_array_equal(real_text[order], null_text[np.argsort(null_text[:, 0])])
    for key in real:
        if key.startswith("X_text_") or key == "meta":
            continue
        np.testing.assert_array_equal(real[key], null[key], err_msg=key)
    real_meta, null_meta = (json.loads(str(f["meta"])) for f in (real, null))
    assert real_meta["demo"] is null_meta["demo"] is True
    assert (real_meta["benchmark"]["kind"], null_meta["benchmark"]["kind"]) == ("real", "null")
    assert real_meta["benchmark"]["replicate"] == null_meta["benchmark"]["replicate"] == 1
    assert {k: v for k, v in real_meta.items() if k != "benchmark"} == {
        "demo": True,
        "synthetic": True,
        "seed": 42,
    }


def test_replicates_are_seeded_by_k():
    again, other = replicate(k=2)["null"], replicate(k=5)["null"]
    first = replicate(k=2)["null"]
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])
    assert not np.array_equal(row_numbers(first, "train"), row_numbers(other, "train"))


def test_a_written_replicate_keeps_the_keys_and_loads_as_training_data(tmp_path):
    null = replicate()["null"]
    path = bench.write_data_file(tmp_path / "null_0.npz", null)
    with np.load(path, allow_pickle=False) as written:
        assert set(written.files) == set(null)
        for key in written.files:
            assert written[key].dtype == null[key].dtype, key
    data = load_multimodal_data(path)
    assert len(data.splits["test"]) == len(null["y_test"])
    assert data.meta["benchmark"]["kind"] == "null"


def test_a_per_split_array_of_another_length_is_refused():
    arrays = synthetic_arrays()
    arrays["times_val"] = arrays["times_val"][:-1]
    with pytest.raises(PipelineError, match="times_val"):
        bench.build_replicate(arrays, 0, 0.5, 0, {})


def test_runs_alternate_and_rates_carry_exact_intervals():
    assert bench.schedule(2, "both") == [("null", 0), ("real", 0), ("null", 1), ("real", 1)]
    assert bench.schedule(2, "null") == [("null", 0), ("null", 1)]
    assert bench.schedule(1, "both", k_null=3) == [
        ("null", 0),
        ("real", 0),
        ("null", 1),
        ("null", 2),
    ]

    def record(kind, verdict, leak):
        return {
            "kind": kind,
            "verdict": verdict,
            "claims_gain": verdict in bench.GAIN_CLAIM_VERDICTS,
            "label_leak_suspected": leak,
            "wall_seconds": 2.0,
        }

    records = [
        record("null", "inconclusive", False),
        record("null", "gain_size_unclear", False),
        record("null", "worse", None),
        record("real", "meaningful_gain", True),
    ]
    summary = bench.summarize(records)
    claims = summary["null"]["gain_claims"]
    interval = binomtest(1, 3).proportion_ci(method="exact")
    assert (claims["count"], claims["of"]) == (1, 3)
    assert claims["ci95"] == pytest.approx([interval.low, interval.high])
    assert summary["null"]["leak_warnings"]["of"] == 2  # the run without controls is left out
    assert summary["null"]["runs_without_leak_flag"] == 1
    assert summary["real"]["leak_warnings"]["count"] == 1
    assert summary["real"]["verdicts"] == {"meaningful_gain": 1}
    assert bench.proportion(0, 0)["ci95"] is None


@pytest.mark.slow
def test_one_tiny_replicate_end_to_end_and_resumed(tmp_path):
    demo = tmp_path / "demo"
    prepared = run_script(
        "download_and_prepare_clinical_notes.py",
        "--demo",
        "--demo-patients",
        "200",
        "--out-dir",
        str(demo),
        "--quiet",
    )
    assert prepared.returncode == 0, prepared.stderr[-3000:]
    work, out = tmp_path / "work", tmp_path / "calibration.json"
    args = [
        "benchmarks/benchmark_verdict_calibration.py",
        "--data",
        str(demo / "multimodal_data.npz"),
        "--k",
        "1",
        "--fraction",
        "0.5",
        "--extra-args",
        "--epochs 1 --seeds 42",
        "--work-dir",
        str(work),
        "--output",
        str(out),
    ]
    result = run_script(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["complete"] and report["torch"] and report["machine"]["cpu_count"]
    assert [(run["kind"], run["k"]) for run in report["runs"]] == [("null", 0), ("real", 0)]
    for run in report["runs"]:
        assert run["verdict"] == run["added_value"]["verdict"]
        assert run["claims_gain"] == (run["verdict"] in bench.GAIN_CLAIM_VERDICTS)
        assert run["label_leak_suspected"] == run["controls"].get("label_leak_suspected")
        assert run["wall_seconds"] > 0
    for kind in ("null", "real"):
        assert report["summary"][kind]["runs"] == 1
    assert "| null (notes permuted) | 1 |" in result.stdout
    assert "| real (notes as prepared) | 1 |" in result.stdout

    resumed = run_script(*args, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert resumed.stdout.count("(resumed: trained earlier)") == 2
    assert json.loads(out.read_text())["runs"] == report["runs"]


def test_the_summary_compares_the_intervals_width_with_the_spread_of_the_gains():
    runs = [
        {
            "kind": "null",
            "k": k,
            "wall_seconds": 1.0,
            "verdict": "inconclusive",
            "claims_gain": False,
            "label_leak_suspected": False,
            "auroc_difference_ci": [0.01 * (k - 1), 0.05],
            "added_value": {
                "gain_auroc": gain,
                "gain_auroc_ci": [gain - 1.96 * 0.02, gain + 1.96 * 0.02],
                "over_vital_only": {"verdict": "meaningful_gain" if k == 0 else "inconclusive"},
            },
        }
        for k, gain in enumerate([-0.01, 0.0, 0.01])
    ]
    summary = bench.summarize(runs)["null"]
    assert summary["notes_gain"]["mean"] == pytest.approx(0.0)
    assert summary["notes_gain"]["sd"] == pytest.approx(0.01)
    assert summary["notes_gain"]["sd_implied_by_intervals"] == pytest.approx(0.02)
    assert summary["vital_only_comparison_claims"]["count"] == 1
    assert summary["former_rule_claims"]["count"] == 1  # only k = 2 has a CI above zero
