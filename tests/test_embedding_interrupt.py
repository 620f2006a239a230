"""Ctrl-C during the embedding step, then the same command again: the result of one clean run.

The preparation script runs as a subprocess on 300 distinct notes in batches of 8; once the
first batch shard is on disk it gets SIGINT, as from Ctrl-C. It must stop cleanly (status 130, a
message saying how to resume, no traceback, no final output, no damaged shard), and the re-run
must encode only what is missing and write the embeddings an uninterrupted run writes.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from multimodal_deterioration.base.cli import INTERRUPTED_EXIT_STATUS
from multimodal_deterioration.preparation.embedding_cache import CACHE_DIR_NAME

from helpers import NOTE_TEXTS, REPO_ROOT, make_vitals, note_records, run_script, write_jsonl

# Each test runs a script end to end as a subprocess: deselect with -m 'not slow'.
pytestmark = pytest.mark.slow

SCRIPT = "download_and_prepare_clinical_notes.py"
N_NOTES = 300
BATCH_SIZE = 8
PREPARED = (
    "clinical_notes_raw.parquet",
    "clinical_features.csv",
    "clinical_embeddings.npy",
    "multimodal_data.npz",
)
ENCODED = re.compile(r"(\d+) texts encoded now, (\d+) from the cache")


def varied_notes() -> list[dict]:
    """Two reference notes each plus a numbered clinical sentence, so every text is distinct."""
    records = note_records(N_NOTES)
    for i, record in enumerate(records):
        pair = f"{NOTE_TEXTS[i % len(NOTE_TEXTS)]} {NOTE_TEXTS[(i + 3) % len(NOTE_TEXTS)]}"
        record["note"] = f"{pair} Fever of {38 + i % 3}.{i % 10} C on day {i}."
    return records


def wait_for_first_shard(process: subprocess.Popen, cache_dir, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not list(cache_dir.rglob("shard-*.npz")):
        assert process.poll() is None, "the run ended before it wrote a batch shard"
        assert time.monotonic() < deadline, "no batch shard appeared"
        time.sleep(0.02)


def encoded_counts(stdout: str) -> tuple[int, int]:
    match = ENCODED.search(stdout)
    assert match, stdout
    return int(match.group(1)), int(match.group(2))


def test_an_interrupted_embedding_step_resumes_to_the_uninterrupted_result(tmp_path):
    notes = write_jsonl(tmp_path / "notes.jsonl", varied_notes())
    vitals = tmp_path / "processed_data.npz"
    np.savez(vitals, **make_vitals(ids=False))
    common = ["--notes", str(notes), "--vitals", str(vitals), "--batch-size", str(BATCH_SIZE)]
    interrupted, clean = tmp_path / "interrupted", tmp_path / "clean"
    command = [sys.executable, str(REPO_ROOT / SCRIPT), *common, "--out-dir", str(interrupted)]
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1")

    with open(tmp_path / "stdout", "w+") as stdout, open(tmp_path / "stderr", "w+") as stderr:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=stdout, stderr=stderr)
        try:
            wait_for_first_shard(process, interrupted / CACHE_DIR_NAME)
            process.send_signal(signal.SIGINT)
            status = process.wait(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
        stderr.seek(0)
        message = stderr.read()

    assert status == INTERRUPTED_EXIT_STATUS, message[-3000:]
    assert "Traceback" not in message
    assert "interrupted: no final output was replaced; run the same command again to resume" in (
        message
    )
    for name in PREPARED:
        assert not (interrupted / name).exists(), name
    shards = list((interrupted / CACHE_DIR_NAME).rglob("shard-*.npz"))
    assert shards and not list((interrupted / CACHE_DIR_NAME).rglob(".shard-*"))
    for shard in shards:  # written atomically: every shard on disk is a whole batch
        with np.load(shard) as data:
            assert len(data["keys"]) == len(data["vectors"]) == BATCH_SIZE

    resumed = run_script(SCRIPT, *common, "--out-dir", str(interrupted))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    reference = run_script(SCRIPT, *common, "--out-dir", str(clean))
    assert reference.returncode == 0, reference.stderr[-3000:]

    encoded_now, cached = encoded_counts(resumed.stdout)
    assert encoded_counts(reference.stdout) == (N_NOTES, 0)
    assert cached >= BATCH_SIZE and encoded_now + cached == N_NOTES
    embeddings = np.load(interrupted / "clinical_embeddings.npy")
    expected = np.load(clean / "clinical_embeddings.npy")
    assert embeddings.shape == expected.shape == (N_NOTES, 384)
    assert np.abs(embeddings - expected).max() < 1e-5
