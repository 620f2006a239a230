"""Small data the tests make themselves; nothing here needs the network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# Case-report-like notes in the AGBonnet/augmented-clinical-notes schema.
NOTE_TEXTS = [
    "A 67-year-old man presented with fever and productive cough. He denied chest pain. "
    "Chest radiograph showed a right lower lobe consolidation. He was treated with ceftriaxone.",
    "A 45-year-old woman was admitted with severe abdominal pain and vomiting. "
    "CT showed acute pancreatitis. She improved with fluids and analgesia.",
    "The patient, a 72-year-old woman, developed worsening dyspnea and hypotension on day 2. "
    "Norepinephrine was started. Sepsis was suspected and blood cultures were drawn.",
    "A 30-year-old man with no past medical history presented after a syncopal episode. "
    "ECG and echocardiogram were normal. He was discharged the next day.",
    "",
    "Une patiente de 58 ans présentait une fièvre et une toux. Ärztliche Untersuchung unauffällig.",
    "A 81-year-old man with heart failure presented with edema and shortness of breath. "
    "Furosemide was given. No fever. Without chest pain. Negative for sepsis.",
    "   ",
    "A 55-year-old woman with diabetes on insulin and metformin presented with confusion. "
    "Glucose was 30 mg/dL. Dr. Smith gave dextrose, e.g. 50 mL of D50, and she recovered.",
    "A 23-year-old man had a seizure. He was intubated for airway protection and extubated the "
    "next morning.",
]


def summary_json(symptoms: list[str], treatments: list[str]) -> str:
    return json.dumps(
        {
            "visit motivation": "None",
            "symptoms": [{"name of symptom": s, "intensity of symptom": "None"} for s in symptoms],
            "treatments": [{"name": t, "related condition": "None"} for t in treatments],
        }
    )


def note_records(n: int = len(NOTE_TEXTS)) -> list[dict]:
    records = []
    for i in range(n):
        text = NOTE_TEXTS[i % len(NOTE_TEXTS)]
        records.append(
            {
                "idx": i,
                "note": text,
                "full_note": text + " Discharge summary follows.",
                "conversation": "Doctor: How are you? Patient: Not well.",
                "summary": summary_json(["fever"] * (i % 3), ["aspirin"] * (i % 2)),
                "patient_id": f"P{i:03d}",
            }
        )
    return records


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def notes_file(tmp_path) -> Path:
    return write_jsonl(tmp_path / "notes.jsonl", note_records(30))


def make_vitals(sizes=(20, 6, 6), n_steps=5, n_features=6, ids=True, seed=0) -> dict[str, np.ndarray]:
    """A small processed_data.npz payload; ids P000.. run across the splits in order."""
    rng = np.random.default_rng(seed)
    arrays: dict[str, np.ndarray] = {}
    start = 0
    for name, n in zip(("train", "val", "test"), sizes):
        arrays[f"X_{name}"] = rng.normal(size=(n, n_steps, n_features)).astype(np.float32)
        arrays[f"y_{name}"] = np.arange(n) % 2
        if ids:
            arrays[f"ids_{name}"] = np.array([f"P{i:03d}" for i in range(start, start + n)])
        start += n
    arrays["feature_names"] = np.array([f"v{i}" for i in range(n_features)])
    return arrays


@pytest.fixture
def vitals_file(tmp_path) -> Path:
    path = tmp_path / "processed_data.npz"
    np.savez(path, **make_vitals())
    return path


@pytest.fixture(scope="session")
def minilm():
    from multimodal_deterioration.embeddings import load_embedding_model

    return load_embedding_model(device="cpu")


def run_script(script: str, *args: str, cwd: Path | None = None, timeout: int = 600, env_extra=None):
    """Run one of the two entry points as a user would, offline."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / script), *args],
        cwd=cwd or REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
