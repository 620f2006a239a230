"""The benchmark script runs offline and reports each path beside its references.

Throughput is never asserted (it depends on the machine); what is checked is that every case
ran on the same inputs and that the ratios are computed against the right reference.
"""

import json
import math

import pytest

from helpers import run_script

pytestmark = pytest.mark.slow


def test_benchmark_times_each_path_beside_its_references(tmp_path):
    out = tmp_path / "benchmark.json"
    result = run_script(
        "benchmarks/benchmark_pipeline.py",
        "--fast-encoder-proxy",
        "--embed-sizes",
        "24",
        "--train-sizes",
        "96",
        "--repeats",
        "1",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["machine"]["device"] == "cpu" and report["machine"]["cpus_usable"] >= 1

    embedding = report["embedding"]
    assert embedding["model"].startswith("fast-encoder proxy of sentence-transformers/")
    runs = embedding["runs"]
    assert [(row["notes"], row["variant"]) for row in runs] == [
        (notes, variant)
        for notes in ("short (demo)", "long (case-report length)")
        for variant in (
            "per-note loop (reference)",
            "encode, batched (reference)",
            "embed_notes",
            "split + embed_notes",
        )
    ]
    for notes in ("short (demo)", "long (case-report length)"):
        loop, batched, ours, split = (row for row in runs if row["notes"] == notes)
        assert loop["speed_vs_per_note_loop"] == batched["speed_vs_batched_encode"] == 1.0
        assert math.isclose(ours["speed_vs_batched_encode"], batched["seconds"] / ours["seconds"])
        assert math.isclose(ours["speed_vs_per_note_loop"], loop["seconds"] / ours["seconds"])
        assert ours["count"] == split["count"] == 24
    assert min(row["mean_words"] for row in runs if row["notes"].startswith("long")) > 700

    training = report["training"]["runs"]
    assert [row["variant"] for row in training] == [
        "DataLoader loop (reference)",
        "train_model, eager",
    ]
    assert training[0]["speed_vs_dataloader"] == 1.0
    assert math.isclose(
        training[1]["speed_vs_dataloader"], training[0]["seconds"] / training[1]["seconds"]
    )
    assert (
        "| 24 short (demo) | " in result.stdout and "| train_model, eager | 96 |" in result.stdout
    )
