"""Builders shared by several test modules (imported, never collected: no test_ prefix)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np

from multimodal_deterioration.contract.multimodal_data import MultimodalData, MultimodalSplit
from multimodal_deterioration.learning.experiment import (
    BASELINE_MODEL,
    MAIN_MODEL,
    TRAINED_VARIANTS,
    Experiment,
    ExperimentConfig,
    TrainedModel,
)
from multimodal_deterioration.learning.model import ModelConfig

SPLIT_SIZES = {"train": 120, "val": 80, "test": 100}


def fake_data(
    sizes: dict[str, int] = SPLIT_SIZES,
    seed: int = 0,
    ids: bool = False,
    meta: dict | None = None,
    timesteps: int = 4,
    features: int = 3,
    text_dim: int = 8,
) -> MultimodalData:
    """Random multimodal data with about 30% positives per split (at least two of each class)."""
    rng = np.random.default_rng(seed)
    splits = {}
    for name, n in sizes.items():
        y = (rng.random(n) < 0.3).astype(np.int64)
        y[:2], y[2:4] = 1, 0
        splits[name] = MultimodalSplit(
            X_vital=rng.normal(size=(n, timesteps, features)).astype(np.float32),
            X_text=rng.normal(size=(n, text_dim)).astype(np.float32),
            y=y,
            note_index=np.arange(n, dtype=np.int64),
            ids=np.array([f"{name}-{i // 2}" for i in range(n)]) if ids else None,
        )
    return MultimodalData(splits=splits, meta=dict(meta or {}))


def fake_experiment(
    data: MultimodalData,
    val_prob: dict,
    test_prob: dict,
    ablations: bool = False,
    seeds: tuple[int, ...] = (ExperimentConfig().main_seed,),
) -> Experiment:
    """An experiment whose models "predicted" the given probabilities, without any training.

    Lets the results be built from chosen predictions, so a test can make the validation and
    test splits disagree on purpose (e.g. about the best threshold). A probability entry is one
    array (the same for every seed) or ``{seed: array}``; a variant trained with the main seed
    only gets the main seed's.
    """
    config = ExperimentConfig(ablations=ablations, seeds=tuple(seeds))
    features = data.splits["train"].X_vital.shape[2]
    text_dim = data.splits["train"].X_text.shape[1]

    def for_seed(entry, seed: int) -> np.ndarray:
        return entry[seed] if isinstance(entry, dict) else entry

    runs = {}
    for seed in config.seeds:
        runs[seed] = {}
        for name in config.variants:
            if seed not in config.seeds_of(name):
                continue
            kind = TRAINED_VARIANTS.get(name, ("multimodal",))[0]
            runs[seed][name] = TrainedModel(
                name,
                ModelConfig(kind, features, text_dim),
                None,
                for_seed(val_prob[name], seed),
                for_seed(test_prob[name], seed),
                seed,
            )
    return Experiment(config=config, standardizer=None, runs=runs, device="cpu")


def informative_probabilities(y: np.ndarray, strength: float, seed: int) -> np.ndarray:
    """Probabilities that rank positives higher by ``strength`` standard deviations."""
    rng = np.random.default_rng(seed)
    logits = strength * (y - 0.5) + rng.normal(size=y.size)
    return 1.0 / (1.0 + np.exp(-logits))


def fake_predictions(data: MultimodalData, split: str, ablations: bool, seed: int = 0):
    """Every variant's probabilities on one split; the fused model is the most informative."""
    y = data.splits[split].y
    names = ExperimentConfig(ablations=ablations).variants
    strengths = {MAIN_MODEL: 3.0, BASELINE_MODEL: 1.5}
    return {
        name: informative_probabilities(y, strengths.get(name, 1.0), seed + index)
        for index, name in enumerate(names)
    }


def make_scores(n: int, seed: int, prevalence: float = 0.3, decimals: int | None = None):
    """Labels and two correlated probability vectors; rounding creates many ties."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prevalence).astype(int)
    y[:2] = [0, 1]
    signal = rng.normal(size=n)
    logit_a = 1.2 * y + signal + rng.normal(scale=0.8, size=n)
    logit_b = 0.7 * y + signal + rng.normal(scale=0.8, size=n)
    prob_a = 1.0 / (1.0 + np.exp(-logit_a))
    prob_b = 1.0 / (1.0 + np.exp(-logit_b))
    if decimals is not None:
        prob_a, prob_b = np.round(prob_a, decimals), np.round(prob_b, decimals)
    return y, prob_a, prob_b


def naive_delong(y, prob_a, prob_b):
    """DeLong et al. (1988) written from the paper with explicit pair loops.

    psi(X, Y) = 1 if X > Y, 1/2 if X = Y, 0 otherwise (X a positive's score, Y a negative's).
    V10(X_i) = mean_j psi(X_i, Y_j); V01(Y_j) = mean_i psi(X_i, Y_j).
    S10, S01 = sample covariance matrices (m-1, n-1 denominators); S = S10/m + S01/n.
    z = (theta_a - theta_b) / sqrt(L S L'), L = (1, -1).
    """
    from scipy.stats import norm

    def psi(x, t):
        return 1.0 if x > t else 0.5 if x == t else 0.0

    components = []
    for prob in (prob_a, prob_b):
        positives = [p for p, label in zip(prob, y) if label == 1]
        negatives = [p for p, label in zip(prob, y) if label == 0]
        v10 = [sum(psi(x, t) for t in negatives) / len(negatives) for x in positives]
        v01 = [sum(psi(x, t) for x in positives) / len(positives) for t in negatives]
        components.append((np.array(v10), np.array(v01)))
    (a10, a01), (b10, b01) = components
    m, n = len(a10), len(a01)
    s10 = np.cov(np.vstack([a10, b10]))
    s01 = np.cov(np.vstack([a01, b01]))
    s = s10 / m + s01 / n
    theta_a, theta_b = a10.mean(), b10.mean()
    variance_a = s[0, 0]
    variance_difference = s[0, 0] + s[1, 1] - 2 * s[0, 1]
    z = (theta_a - theta_b) / np.sqrt(variance_difference)
    return theta_a, theta_b, variance_a, variance_difference, z, 2 * norm.sf(abs(z))


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


def make_vitals(
    sizes=(20, 6, 6), n_steps=5, n_features=6, ids=True, seed=0
) -> dict[str, np.ndarray]:
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


def load_module(path: Path) -> ModuleType:
    """A script or benchmark (not part of the package) imported from its file, with its folder
    on ``sys.path`` as when it runs, so it can import the modules beside it."""
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(
    script: str, *args: str, cwd: Path | None = None, timeout: int = 600, env_extra=None
):
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


def with_non_finite(X: np.ndarray, n_nan: int, n_inf: int) -> np.ndarray:
    """NaN in the first values of the first sample, infinity in the last of the last."""
    X = X.astype(np.float32)
    X.reshape(-1)[:n_nan] = np.nan
    X.reshape(-1)[-n_inf:] = np.inf
    return X


def tiny_data(sizes=(8, 6, 6), n_steps=3, n_features=2, text_dim=4) -> dict[str, np.ndarray]:
    """A multimodal_data.npz payload in the contracted layout, small enough to fail fast."""
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in zip(("train", "val", "test"), sizes):
        arrays[f"X_vital_{split}"] = rng.normal(size=(n, n_steps, n_features)).astype(np.float32)
        arrays[f"X_text_{split}"] = rng.normal(size=(n, text_dim)).astype(np.float32)
        arrays[f"y_{split}"] = np.arange(n) % 2
        arrays[f"note_index_{split}"] = np.arange(n)
    arrays["meta"] = np.array(json.dumps({"demo": False}))
    return arrays


def null_notes_data(seed: int = 0, text_dim: int = 32) -> MultimodalData:
    """Vitals that carry the label (feature 0 shifted for positives) and note vectors of pure
    noise: a data set on which the notes cannot add anything."""
    rng = np.random.default_rng(seed)
    splits = {}
    for name, n in {"train": 240, "val": 120, "test": 160}.items():
        y = (rng.random(n) < 0.3).astype(np.int64)
        y[:2], y[2:4] = 1, 0
        X_vital = rng.normal(size=(n, 4, 3)).astype(np.float32)
        X_vital[:, :, 0] += 0.9 * y[:, None]
        splits[name] = MultimodalSplit(
            X_vital=X_vital,
            X_text=rng.normal(size=(n, text_dim)).astype(np.float32),
            y=y,
            note_index=np.arange(n, dtype=np.int64),
            ids=None,
        )
    return MultimodalData(
        splits=splits, meta={"pairing": {"method": "id", "clinically_linked": True}}
    )


# Offsets the zoned chart times cycle through: New York in summer, Central Europe, UTC.
CHART_TIME_OFFSETS = ("-04:00", "+01:00", "Z")
# Spellings of a missing time in a text column, cycled through.
MISSING_TIME_SPELLINGS = ("", "NaT", None, " null ")


def chart_times_as_written(
    instants: np.ndarray, zoned: bool, typed: bool, missing=MISSING_TIME_SPELLINGS
):
    """UTC instants (``datetime64``, NaT where missing) as a notes file holds them.

    Typed (parquet): timestamps, in New York time when zoned. As text (CSV, JSON): ISO-8601,
    zoned ones with the offsets of ``CHART_TIME_OFFSETS`` in turn (the same instants), zone-less
    ones as UTC wall-clock times, missing ones spelled as in ``missing`` in turn.
    """
    import pandas as pd

    utc = pd.Series(pd.to_datetime(instants).as_unit("s"))
    if typed:
        return utc.dt.tz_localize("UTC").dt.tz_convert("America/New_York") if zoned else utc
    written = []
    for i, instant in enumerate(utc):
        if pd.isna(instant):
            written.append(missing[i % len(missing)])
        elif not zoned:
            written.append(instant.strftime("%Y-%m-%d %H:%M:%S"))
        else:
            offset = CHART_TIME_OFFSETS[i % len(CHART_TIME_OFFSETS)]
            hours = 0 if offset == "Z" else int(offset[:3])
            local = instant + pd.Timedelta(hours=hours)
            written.append(local.strftime("%Y-%m-%dT%H:%M:%S") + offset)
    return pd.Series(written, dtype=object)


def write_notes_as(path: Path, table) -> Path:
    """A notes DataFrame written in the format that ``path``'s suffix names."""
    if path.suffix == ".csv":
        table.to_csv(path, index=False)
    elif path.suffix == ".parquet":
        table.to_parquet(path)
    else:  # .jsonl: one object per line; .json: one array of objects
        table.to_json(path, orient="records", lines=path.suffix == ".jsonl")
    return path
