"""The demo cohort: the simulator's vitals and labels with the note writer's notes, and the
two input files (``processed_data.npz``, ``demo_notes.jsonl``) the scripts read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...base.artifacts import save_npz, save_text
from ...base.errors import PipelineError
from .documentation import Documentation, draw_documentation
from .note_writer import (
    DEMO_CATEGORY_COLUMN,
    DEMO_NOTES_ID_COLUMN,
    DEMO_TIME_COLUMN,
    Patient,
    draw_background,
    write_discharge_summary,
    write_patient_notes,
)
from .simulator import (
    DEMO_FEATURE_NAMES,
    SPLIT_NAMES,
    clock_hours,
    draw_admission_times,
    draw_explained_abnormalities,
    draw_labels,
    simulate_vitals,
    stratified_split,
)

DEMO_VITALS_FILENAME = "processed_data.npz"
DEMO_NOTES_FILENAME = "demo_notes.jsonl"
DEMO_ID_PREFIX = "DEMO-"
DEFAULT_N_PATIENTS = 2000
DEFAULT_N_TIMESTEPS = 24  # hourly observations over the first day, as in the reference setup
DEFAULT_SEED = 0
# Share of patients with a discharge summary, drawn independently of the label. Discharge
# summaries are charted after the prediction time and state the outcome: they exist to show
# what happens when notes written after the outcome leak into the model.
DISCHARGE_SUMMARY_SHARE = 0.5
# Below this the smallest split (15%) may hold no deteriorating patient at 20% prevalence.
MIN_PATIENTS = 100


@dataclass(frozen=True)
class DemoCohort:
    """The arrays of ``processed_data.npz`` and the records of ``demo_notes.jsonl``, with how
    each patient was documented (indexed by patient: row i is id ``DEMO-{i + 1:05d}``)."""

    vitals: dict[str, np.ndarray]
    notes: list[dict]
    documentation: Documentation


@dataclass(frozen=True)
class DemoInputs:
    """Where the demo inputs were written, and how they were made."""

    vitals_path: Path
    notes_path: Path
    n_patients: int
    seed: int


def make_demo_cohort(
    n_patients: int = DEFAULT_N_PATIENTS,
    n_timesteps: int = DEFAULT_N_TIMESTEPS,
    seed: int = DEFAULT_SEED,
) -> DemoCohort:
    """Simulate ``n_patients`` patients: vital-sign sequences, labels, prediction times and
    1-4 timed ward notes for each documented patient (``documentation.py`` says which are
    charted before the prediction time), plus a discharge summary after it for
    ``DISCHARGE_SUMMARY_SHARE`` of them."""
    if n_patients < MIN_PATIENTS:
        raise PipelineError(
            f"the demo cohort needs at least {MIN_PATIENTS} patients (got {n_patients}) so every "
            "split holds both classes; pass a larger number"
        )
    if n_timesteps < 2:
        raise PipelineError(
            f"the demo cohort needs at least 2 time steps (got {n_timesteps}) to show a trend"
        )
    # One stream per purpose, so that e.g. the discharge summaries do not change the other notes.
    streams = np.random.default_rng(seed).spawn(8)
    latent_rng, vitals_rng, split_rng, notes_rng, order_rng, times_rng, discharge_rng = streams[:7]
    physiological = latent_rng.standard_normal(n_patients)
    bedside = latent_rng.standard_normal(n_patients)
    labels = draw_labels(physiological, bedside, latent_rng)
    explained = draw_explained_abnormalities(n_patients, latent_rng)
    admitted = draw_admission_times(n_patients, times_rng)
    documentation = draw_documentation(physiological, n_timesteps, streams[7])
    # The window starts on day ``window_day`` of the stay, at the clock time of admission.
    window_start = admitted + (documentation.window_day * 86_400).astype("timedelta64[s]")
    start_hours = clock_hours(window_start)
    vitals = simulate_vitals(physiological, explained, n_timesteps, vitals_rng, start_hours)
    predicted = window_start + np.timedelta64(n_timesteps * 3600, "s")
    ids = np.array([f"{DEMO_ID_PREFIX}{i + 1:05d}" for i in range(n_patients)])
    arrays = _vitals_file_arrays(
        vitals, labels, ids, predicted, stratified_split(labels, split_rng)
    )

    with_discharge = discharge_rng.random(n_patients) < DISCHARGE_SUMMARY_SHARE
    notes = []
    for i in range(n_patients):
        late = int(documentation.late_first_note_minutes[i])
        background = draw_background(notes_rng)
        patient = Patient(str(ids[i]), admitted[i], predicted[i], background, n_timesteps, late)
        if documentation.documented[i]:
            notes += write_patient_notes(
                patient, bedside[i], explained[i] > 0, notes_rng, times_rng
            )
        if with_discharge[i]:
            notes.append(write_discharge_summary(patient, int(labels[i]), discharge_rng))
    shuffled = [notes[i] for i in order_rng.permutation(len(notes))]
    for position, record in enumerate(shuffled):
        record["idx"] = position
    records = [_in_schema_order(record) for record in shuffled]
    return DemoCohort(vitals=arrays, notes=records, documentation=documentation)


def _vitals_file_arrays(
    vitals: np.ndarray,
    labels: np.ndarray,
    ids: np.ndarray,
    predicted: np.ndarray,
    splits: tuple[np.ndarray, ...],
) -> dict[str, np.ndarray]:
    """The arrays of ``processed_data.npz``: per split the rows ``splits`` gives it."""
    arrays: dict[str, np.ndarray] = {}
    for name, rows in zip(SPLIT_NAMES, splits):
        arrays[f"X_{name}"] = vitals[rows]
        arrays[f"y_{name}"] = labels[rows]
        arrays[f"ids_{name}"] = ids[rows]
        arrays[f"times_{name}"] = predicted[rows]
    arrays["feature_names"] = np.array(DEMO_FEATURE_NAMES)
    return arrays


def write_demo_inputs(
    out_dir: str | Path, n_patients: int = DEFAULT_N_PATIENTS, seed: int = DEFAULT_SEED
) -> DemoInputs:
    """Write ``processed_data.npz`` and ``demo_notes.jsonl`` into ``out_dir``, atomically."""
    cohort = make_demo_cohort(n_patients=n_patients, seed=seed)
    out_dir = Path(out_dir)
    vitals_path = save_npz(out_dir / DEMO_VITALS_FILENAME, **cohort.vitals)
    lines = "".join(json.dumps(record) + "\n" for record in cohort.notes)
    notes_path = save_text(out_dir / DEMO_NOTES_FILENAME, lines)
    return DemoInputs(
        vitals_path=vitals_path, notes_path=notes_path, n_patients=n_patients, seed=seed
    )


def _in_schema_order(record: dict) -> dict:
    keys = (
        "idx",
        "note",
        "full_note",
        "conversation",
        "summary",
        DEMO_NOTES_ID_COLUMN,
        DEMO_TIME_COLUMN,
        DEMO_CATEGORY_COLUMN,
    )
    return {key: record[key] for key in keys}
