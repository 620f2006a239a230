"""Fixtures: small data the tests make themselves; nothing here needs the network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers import make_scores, make_vitals, note_records, write_jsonl


@pytest.fixture
def notes_file(tmp_path) -> Path:
    return write_jsonl(tmp_path / "notes.jsonl", note_records(30))


@pytest.fixture
def vitals_file(tmp_path) -> Path:
    path = tmp_path / "processed_data.npz"
    np.savez(path, **make_vitals())
    return path


@pytest.fixture(scope="session")
def minilm():
    from multimodal_deterioration.preparation.embeddings import load_embedding_model

    return load_embedding_model(device="cpu")


@pytest.fixture
def tied_scores():
    """Scores with many ties (one decimal)."""
    return make_scores(300, seed=1, decimals=1)


@pytest.fixture
def smooth_scores():
    """Scores without ties."""
    return make_scores(400, seed=2)
