"""A deterministic synthetic cohort (vitals + linked, timed notes) for ``--demo`` and the tests.

The cohort is built so that the question the pipeline asks has a known, non-trivial answer.
Each patient's risk of deterioration comes from two independent latent factors:

* a *physiological* factor, expressed only in the vital-sign trends (rising heart and
  respiratory rate, falling saturation and blood pressure, rising temperature), blurred by
  per-patient baselines, unrelated drift, circadian variation, autocorrelated noise and rounding;
* a *bedside* factor, expressed only in the note text: new confusion, breathlessness,
  oliguria, family concern, "looks unwell" -- against "alert and oriented", "ambulating",
  "tolerating diet". Pertinent negatives ("no confusion") are written mostly for well patients,
  so counting keywords without handling negation points the wrong way.

The label is drawn from a logistic model of both factors, so neither modality reveals it.

Most of what the notes add is tied to the individual patient, not to the class: some patients
have an *explained abnormality* -- pain, anxiety, salbutamol nebulisers, a transfusion reaction
-- that moves their vitals exactly like deterioration does but carries no risk, and only the
note says so. Such notes are unrelated to the label on their own; they help only when read
together with the same patient's vitals. This is what the pipeline's controls are meant to see:
pairing notes at random, or at random within each class, removes that part of the gain, while
the correctly linked fused model keeps it.

Time. Each patient is admitted at some minute of 2131 (MIMIC-style shifted dates); the vitals
are the hourly observations of the first ``n_timesteps`` hours, and the sample's prediction
time (``times_{split}`` in the vitals file) is admission + ``n_timesteps`` hours. Before it,
each patient has 1-4 notes: an *Admission note* (presentation, history, medications, social
history, treatment) charted in the first hours, and 0-3 short *Progress notes* charted later in
the window. The bedside sentences are spread over these notes, so together they say what one
note would, in about the same number of words. Nothing in a note charted at or before the
prediction time names the outcome: those notes describe the patient's state at the time of
writing. For ``DISCHARGE_SUMMARY_SHARE`` of the patients, drawn independently of the label, a
*Discharge summary* charted 1-10 days after the prediction time states the outcome in plain
words (transferred to intensive care, cardiac arrest, died; or recovered and went home). These
notes exist to show what a leak looks like: a pipeline that ignores chart times, or reads notes
written after the outcome, scores far above what the honest notes allow.

The vitals follow the user's ``processed_data.npz`` contract (with ``times_{split}``) and the
notes the schema of ``AGBonnet/augmented-clinical-notes`` plus ``patient_id``, ``charttime``
(ISO-8601, "YYYY-MM-DD HH:MM:SS") and ``category`` columns, so the demo runs through exactly the
code path a user's own linked, timed files take.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.optimize import brentq
from scipy.special import expit

from .artifacts import save_npz, save_text
from .errors import PipelineError

DEMO_VITALS_FILENAME = "processed_data.npz"
DEMO_NOTES_FILENAME = "demo_notes.jsonl"
DEMO_NOTES_ID_COLUMN = "patient_id"
DEMO_ID_PREFIX = "DEMO-"
DEFAULT_N_PATIENTS = 2000
DEFAULT_N_TIMESTEPS = 24  # hourly observations over the first day, as in the reference setup
DEFAULT_SEED = 0

# The notes file's time and category columns, and the three kinds of note the demo writes.
DEMO_TIME_COLUMN = "charttime"
DEMO_CATEGORY_COLUMN = "category"
ADMISSION_CATEGORY = "Admission note"
PROGRESS_CATEGORY = "Progress note"
DISCHARGE_CATEGORY = "Discharge summary"
NOTE_CATEGORIES = (ADMISSION_CATEGORY, PROGRESS_CATEGORY, DISCHARGE_CATEGORY)
DEMO_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # ISO-8601 without a time zone, as MIMIC charts times
# MIMIC shifts its dates into the 22nd century to de-identify them; the demo admits its patients
# at any minute of one such shifted year.
ADMISSION_PERIOD_START = np.datetime64("2131-01-01T00:00:00", "s")
ADMISSION_PERIOD_DAYS = 365
# The admission note is written once the patient has been clerked: within the first few hours
# (capped at half the observation window when the window is shorter than 8 hours).
ADMISSION_NOTE_DELAY_HOURS = (0.5, 4.0)
# Progress notes per patient before the prediction time (inclusive range); with the admission
# note, each patient has 1-4 notes the model may read. They are short (a few bedside sentences)
# so the words per patient, which the embedding time of the demo grows with, stay about those
# of one note.
PROGRESS_NOTES_PER_PATIENT = (0, 3)
NOTES_PER_PATIENT = (1, PROGRESS_NOTES_PER_PATIENT[1] + 1)  # before the prediction time
# Share of patients with a discharge summary, drawn independently of the label. Discharge
# summaries are charted after the prediction time and state the outcome: they exist to show
# what happens when notes written after the outcome leak into the model.
DISCHARGE_SUMMARY_SHARE = 0.5
DISCHARGE_DELAY_DAYS = (1.0, 10.0)  # after the prediction time

# Train/validation/test fractions of the patients, as in the reference vital-sign setup.
SPLIT_FRACTIONS = (0.70, 0.15, 0.15)
SPLIT_NAMES = ("train", "val", "test")
# Below this the smallest split (15%) may hold no deteriorating patient at 20% prevalence.
MIN_PATIENTS = 100

# Ward deterioration cohorts report event rates of roughly 5-25%; 20% keeps both classes
# well represented in a small demo test split.
TARGET_PREVALENCE = 0.20
# Log-odds per standard deviation of each latent factor, tuned by hand (2000 patients, seed 42,
# half to fit, half to score) so that a logistic regression on per-patient vital summaries
# reaches about 0.77 AUROC, one on the MiniLM note embeddings about 0.62, and one on both about
# 0.86, falling back to 0.77 when the notes are shuffled within each class: the notes' value is
# patient-specific, not a stand-in for the label. Spreading each patient's note over 1-4 timed
# notes left these unchanged: on the keyword features of the tests (a patient's pre-prediction
# notes concatenated), the mean over seeds 0-7 was vitals 0.76 / notes 0.63 / fused 0.83 before
# and 0.75 / 0.63 / 0.83 after, so nothing was retuned.
PHYSIOLOGICAL_LOG_ODDS = 2.8
BEDSIDE_LOG_ODDS = 1.2
# Share of patients with an explained, risk-free abnormality, and its size in the same units as
# the physiological factor (so in the vitals it looks like a patient ~1-2 SD at risk).
EXPLAINED_ABNORMALITY_RATE = 0.4
EXPLAINED_ABNORMALITY_SIZE = (1.0, 2.0)

# Words that would name the outcome instead of describing the patient; no note charted at or
# before the prediction time contains them (discharge summaries, charted after it, do).
LABEL_LEAK_TERMS = (
    "deteriorat",
    "icu",
    "itu",
    "intensive care",
    "critical care",
    "high dependency",
    "hdu",
    "transferred",
    "rapid response",
    "outreach",
    "medical emergency team",
    "cardiac arrest",
    "died",
    "death",
    "deceased",
    "outcome",
    "label",
    "escalat",
)


@dataclass(frozen=True)
class VitalSign:
    """How one vital sign is simulated; units and ranges are those of adult ward charts."""

    name: str
    unit: str
    baseline_mean: float
    baseline_sd: float
    noise_sd: float  # stationary SD of the hour-to-hour fluctuation
    drift_sd: float  # SD of a per-patient linear drift over the window that carries no risk
    deterioration_shift: float  # change by the end of the window per SD of physiological risk
    circadian_amplitude: float
    decimals: int  # charted precision
    lower: float
    upper: float


# Baselines from adult inpatient norms (NEWS2 "normal" bands); shifts in the directions of the
# NEWS2 scoring bands (tachycardia, tachypnoea, desaturation, hypotension, fever).
VITAL_SIGNS = (
    VitalSign("heart_rate", "bpm", 80.0, 11.0, 4.0, 4.0, 12.0, 3.0, 0, 35.0, 180.0),
    VitalSign("respiratory_rate", "breaths/min", 16.0, 2.0, 1.5, 1.2, 4.0, 0.0, 0, 8.0, 40.0),
    VitalSign("spo2", "%", 96.5, 1.5, 0.9, 0.6, -2.0, 0.0, 0, 80.0, 100.0),
    VitalSign("systolic_bp", "mmHg", 128.0, 16.0, 7.0, 6.0, -12.0, 4.0, 0, 70.0, 210.0),
    VitalSign("temperature", "degrees C", 36.8, 0.3, 0.15, 0.2, 0.5, 0.15, 1, 35.0, 40.5),
    VitalSign("diastolic_bp", "mmHg", 74.0, 9.0, 5.0, 4.0, -7.0, 2.0, 0, 40.0, 120.0),
)
DEMO_FEATURE_NAMES: tuple[str, ...] = tuple(vital.name for vital in VITAL_SIGNS)
DEMO_FEATURE_UNITS: tuple[str, ...] = tuple(vital.unit for vital in VITAL_SIGNS)

SPO2_BASELINE_MAX = 99.0  # a healthy adult's resting saturation rarely charts above 99%
DIASTOLIC_ON_SYSTOLIC = 0.45  # diastolic baseline rises with systolic (regression slope)
NOISE_AUTOCORRELATION = 0.6  # hour-to-hour persistence of fluctuations (AR(1) coefficient)
RESPONSE_SPREAD = 0.35  # log-SD of how strongly each patient's vitals respond to the risk
LATEST_ONSET = 0.6  # a worsening trend starts somewhere in the first 60% of the window
RECOVERY_SCALE = 0.3  # low-risk patients improve, but more slowly than high-risk ones worsen
CIRCADIAN_PEAK_HOUR = 16  # heart rate, blood pressure and temperature peak in the late afternoon


@dataclass(frozen=True)
class DemoCohort:
    """The arrays of ``processed_data.npz`` and the records of ``demo_notes.jsonl``."""

    vitals: dict[str, np.ndarray]
    notes: list[dict]


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
    1-4 timed notes each before the prediction time, plus a discharge summary after it for
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
    streams = np.random.default_rng(seed).spawn(7)
    latent_rng, vitals_rng, split_rng, notes_rng, order_rng, times_rng, discharge_rng = streams
    physiological = latent_rng.standard_normal(n_patients)
    bedside = latent_rng.standard_normal(n_patients)
    labels = draw_labels(physiological, bedside, latent_rng)
    explained = draw_explained_abnormalities(n_patients, latent_rng)
    admitted = draw_admission_times(n_patients, times_rng)
    start_hours = _clock_hours(admitted)
    vitals = simulate_vitals(physiological, explained, n_timesteps, vitals_rng, start_hours)
    predicted = admitted + np.timedelta64(n_timesteps * 3600, "s")
    ids = np.array([f"{DEMO_ID_PREFIX}{i + 1:05d}" for i in range(n_patients)])
    splits = stratified_split(labels, split_rng)

    arrays: dict[str, np.ndarray] = {}
    for name, rows in zip(SPLIT_NAMES, splits):
        arrays[f"X_{name}"] = vitals[rows]
        arrays[f"y_{name}"] = labels[rows]
        arrays[f"ids_{name}"] = ids[rows]
        arrays[f"times_{name}"] = predicted[rows]
    arrays["feature_names"] = np.array(DEMO_FEATURE_NAMES)

    with_discharge = discharge_rng.random(n_patients) < DISCHARGE_SUMMARY_SHARE
    notes = []
    for i in range(n_patients):
        patient = Patient(str(ids[i]), admitted[i], predicted[i], draw_background(notes_rng))
        notes += write_patient_notes(patient, bedside[i], explained[i] > 0, notes_rng, times_rng)
        if with_discharge[i]:
            notes.append(write_discharge_summary(patient, int(labels[i]), discharge_rng))
    shuffled = [notes[i] for i in order_rng.permutation(len(notes))]
    for position, record in enumerate(shuffled):
        record["idx"] = position
    return DemoCohort(vitals=arrays, notes=[_in_schema_order(record) for record in shuffled])


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


# --- labels and splits -------------------------------------------------------------------------


def draw_labels(
    physiological: np.ndarray, bedside: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Bernoulli labels from a logistic model of both latent factors (int64, 1 = deteriorates)."""
    intercept = intercept_for_prevalence(
        TARGET_PREVALENCE, float(np.hypot(PHYSIOLOGICAL_LOG_ODDS, BEDSIDE_LOG_ODDS))
    )
    logit = intercept + PHYSIOLOGICAL_LOG_ODDS * physiological + BEDSIDE_LOG_ODDS * bedside
    return (rng.random(physiological.shape[0]) < expit(logit)).astype(np.int64)


def draw_explained_abnormalities(n_patients: int, rng: np.random.Generator) -> np.ndarray:
    """Size of each patient's explained, risk-free abnormality (0 for most patients)."""
    present = rng.random(n_patients) < EXPLAINED_ABNORMALITY_RATE
    return np.where(present, rng.uniform(*EXPLAINED_ABNORMALITY_SIZE, n_patients), 0.0)


def draw_admission_times(n_patients: int, rng: np.random.Generator) -> np.ndarray:
    """Admission times (``datetime64[s]``, whole minutes) spread over the admission period."""
    minutes = rng.integers(0, ADMISSION_PERIOD_DAYS * 24 * 60, n_patients)
    return ADMISSION_PERIOD_START + (minutes * 60).astype("timedelta64[s]")


def _clock_hours(times: np.ndarray) -> np.ndarray:
    """Time of day in hours (0 to 24, with minutes as a fraction)."""
    seconds = (times - times.astype("datetime64[D]")).astype(np.int64)
    return seconds / 3600.0


def intercept_for_prevalence(prevalence: float, logit_sd: float) -> float:
    """The intercept c with E[expit(c + logit_sd * Z)] = prevalence for Z ~ N(0, 1)."""
    nodes, weights = hermegauss(64)
    weights = weights / weights.sum()
    return brentq(lambda c: float(weights @ expit(c + logit_sd * nodes)) - prevalence, -20.0, 20.0)


def stratified_split(labels: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Row indices of train/val/test, ``SPLIT_FRACTIONS`` of each class, each in ascending order."""
    bounds = np.cumsum(SPLIT_FRACTIONS)[:-1]
    parts: list[list[np.ndarray]] = [[] for _ in SPLIT_NAMES]
    for label in (0, 1):
        members = rng.permutation(np.flatnonzero(labels == label))
        cuts = np.round(bounds * members.size).astype(int)
        for part, chunk in zip(parts, np.split(members, cuts)):
            part.append(chunk)
    return tuple(np.sort(np.concatenate(part)) for part in parts)


# --- vital signs -------------------------------------------------------------------------------


def simulate_vitals(
    physiological: np.ndarray,
    explained: np.ndarray,
    n_timesteps: int,
    rng: np.random.Generator,
    start_hours: np.ndarray,
) -> np.ndarray:
    """Hourly charted vitals, float32 of shape (patients, n_timesteps, len(VITAL_SIGNS)), the
    first at ``start_hours`` (the clock time of admission)."""
    n_patients = physiological.shape[0]
    progress = np.linspace(0.0, 1.0, n_timesteps)  # fraction of the observation window
    values = (
        draw_baselines(n_patients, rng)[:, None, :]
        + risk_trends(physiological, explained, progress, rng)
        + unrelated_drift(n_patients, progress, rng)
        + circadian_rhythm(start_hours, n_timesteps)
        + autocorrelated_noise(n_patients, n_timesteps, rng)
    )
    charted = np.stack(
        [np.round(values[:, :, f], vital.decimals) for f, vital in enumerate(VITAL_SIGNS)], axis=-1
    )
    return np.clip(charted, _per_vital("lower"), _per_vital("upper")).astype(np.float32)


def draw_baselines(n_patients: int, rng: np.random.Generator) -> np.ndarray:
    """Each patient's resting values, shape (patients, vitals)."""
    baseline = _per_vital("baseline_mean") + _per_vital("baseline_sd") * rng.standard_normal(
        (n_patients, len(VITAL_SIGNS))
    )
    spo2, systolic, diastolic = (
        DEMO_FEATURE_NAMES.index(name) for name in ("spo2", "systolic_bp", "diastolic_bp")
    )
    baseline[:, spo2] = np.minimum(baseline[:, spo2], SPO2_BASELINE_MAX)
    systolic_excess = baseline[:, systolic] - VITAL_SIGNS[systolic].baseline_mean
    baseline[:, diastolic] += DIASTOLIC_ON_SYSTOLIC * systolic_excess
    return baseline


def risk_trends(
    physiological: np.ndarray,
    explained: np.ndarray,
    progress: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """The only place the physiological risk enters: a ramp from a random onset to the end of
    the window, stronger in some patients and some vitals than others. An explained
    abnormality adds to the ramp: from the vitals alone it cannot be told from risk."""
    n_patients = physiological.shape[0]
    onset = rng.uniform(0.0, LATEST_ONSET, n_patients)[:, None]
    ramp = np.clip((progress - onset) / (1.0 - onset), 0.0, 1.0)
    severity = np.where(physiological > 0, physiological, RECOVERY_SCALE * physiological)
    severity = severity + explained
    response = rng.lognormal(0.0, RESPONSE_SPREAD, (n_patients, len(VITAL_SIGNS)))
    full_shift = severity[:, None] * response * _per_vital("deterioration_shift")
    return ramp[:, :, None] * full_shift[:, None, :]


def unrelated_drift(n_patients: int, progress: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A linear drift per patient and vital that carries no risk, so not every trend matters."""
    slope = _per_vital("drift_sd") * rng.standard_normal((n_patients, len(VITAL_SIGNS)))
    return progress[None, :, None] * slope[:, None, :]


def circadian_rhythm(start_hours: np.ndarray, n_timesteps: int) -> np.ndarray:
    """Daily variation; each patient's window starts at the clock time of admission."""
    clock_hour = np.asarray(start_hours, dtype=float)[:, None] + np.arange(n_timesteps)
    phase = np.cos(2.0 * np.pi * (clock_hour - CIRCADIAN_PEAK_HOUR) / 24.0)
    return phase[:, :, None] * _per_vital("circadian_amplitude")


def autocorrelated_noise(n_patients: int, n_timesteps: int, rng: np.random.Generator) -> np.ndarray:
    """Stationary AR(1) fluctuations with each vital's ``noise_sd``."""
    shape = (n_patients, len(VITAL_SIGNS))
    stationary_sd = _per_vital("noise_sd")
    innovation_sd = stationary_sd * np.sqrt(1.0 - NOISE_AUTOCORRELATION**2)
    noise = np.empty((n_patients, n_timesteps, len(VITAL_SIGNS)))
    noise[:, 0] = stationary_sd * rng.standard_normal(shape)
    for step in range(1, n_timesteps):
        innovation = innovation_sd * rng.standard_normal(shape)
        noise[:, step] = NOISE_AUTOCORRELATION * noise[:, step - 1] + innovation
    return noise


def _per_vital(field: str) -> np.ndarray:
    return np.array([getattr(vital, field) for vital in VITAL_SIGNS], dtype=float)


# --- notes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BedsideConcept:
    """One bedside observation a ward note may record, in several phrasings per polarity.

    Phrasings may use the pronoun slots ({he}, {He}, {his}, {His}, {him}, {himself}), {degree}
    (an adverb for the graded intensity) and {oxygen} (the oxygen device for that intensity).
    """

    symptom: str  # the name used in the structured summary
    affirmed: tuple[str, ...]
    negated: tuple[str, ...]  # NegEx-style pertinent negatives that mention the concept
    reassuring: tuple[str, ...]  # the healthy counterpart, without the concept's keywords
    question: str  # what the doctor asks in the conversation
    complaint: str  # the patient's answer when the concept is present
    reassurance: str  # the patient's answer when it is not


BEDSIDE_CONCEPTS = (
    BedsideConcept(
        symptom="confusion",
        affirmed=(
            "New confusion was noted overnight by the nursing staff.",
            "{He} is {degree} confused and disorientated to time and place, which is new.",
            "The nurses report that {he} has become {degree} confused and agitated since yesterday.",
            "On assessment {he} is newly confused and struggles to follow the conversation.",
        ),
        negated=(
            "There is no confusion.",
            "{He} is not confused or disorientated.",
            "No new confusion or agitation was reported overnight.",
        ),
        reassuring=(
            "{He} is alert and oriented to time, place and person.",
            "{He} is fully orientated and conversing appropriately.",
            "GCS 15, alert and appropriate in conversation.",
        ),
        question="Do you know where you are at the moment?",
        complaint="I'm not sure... is this my house?",
        reassurance="Yes, I'm in the hospital, on the ward.",
    ),
    BedsideConcept(
        symptom="increased oxygen requirement",
        affirmed=(
            "{He} is {degree} breathless and hypoxic, and is now on {oxygen}.",
            "{He} has become hypoxic and supplemental oxygen has been increased to {oxygen}.",
            "Increasing shortness of breath; {he} now needs {oxygen} to keep saturations in range.",
        ),
        negated=(
            "There is no new oxygen requirement.",
            "{He} has not needed any supplemental oxygen.",
            "No increase in oxygen requirement overnight.",
        ),
        reassuring=(
            "{He} is comfortable on room air.",
            "{He} was weaned to room air this morning.",
            "Breathing comfortably on room air at rest.",
        ),
        question="How is your breathing?",
        complaint="It's harder work than yesterday, even with the oxygen.",
        reassurance="Much easier, I don't need the mask any more.",
    ),
    BedsideConcept(
        symptom="reduced urine output",
        affirmed=(
            "{He} is oliguric, with urine output below 0.5 mL/kg/h over the last six hours.",
            "Oliguria was documented on the fluid balance chart.",
            "{He} has become oliguric since the morning despite fluids.",
        ),
        negated=(
            "There is no reduction in urine output.",
            "Urine output has not fallen.",
            "No concerns about urine output on the fluid balance chart.",
        ),
        reassuring=(
            "{He} is passing good volumes of urine.",
            "Fluid balance is satisfactory and {he} is passing water normally.",
        ),
        question="Have you been passing water?",
        complaint="Hardly at all since this morning.",
        reassurance="Yes, plenty, I've been up to the toilet a few times.",
    ),
    BedsideConcept(
        symptom="change in behaviour noticed by family",
        affirmed=(
            "{His} family are worried that {he} is lethargic and not {himself} today.",
            "{His} daughter is concerned that {he} is more lethargic and withdrawn than usual.",
            "Relatives raised concern that {he} has been {degree} confused in {his} behaviour.",
        ),
        negated=(
            "The family have no concerns at present.",
            "No concerns were raised by relatives at visiting.",
        ),
        reassuring=(
            "{His} family are pleased with {his} progress.",
            "{His} relatives feel {he} is back to {his} usual self.",
        ),
        question="Has your family noticed anything different?",
        complaint="My daughter says I'm not myself.",
        reassurance="They say I'm looking more like my old self.",
    ),
    BedsideConcept(
        symptom="unwell appearance",
        affirmed=(
            "{He} looks {degree} unwell and diaphoretic at the bedside.",
            "{He} appears pale, diaphoretic and {degree} unwell.",
            "The nurse looking after {him} feels {he} looks worse, with new weakness since yesterday.",
            "On review {he} is ill-appearing and {degree} lethargic.",
        ),
        negated=(
            "{He} does not look unwell.",
            "Not pale or clammy on examination.",
        ),
        reassuring=(
            "{He} looks well and is sitting out in the chair.",
            "{He} appears comfortable and in good spirits.",
        ),
        question="How are you feeling in yourself?",
        complaint="Awful, I feel hot and cold and really weak.",
        reassurance="A lot brighter, thank you.",
    ),
    BedsideConcept(
        symptom="poor oral intake",
        affirmed=(
            "{He} has poor appetite and oral intake has been {degree} reduced.",
            "{He} has been unable to tolerate diet because of nausea.",
            "Nausea and vomiting with poor oral intake over the last 24 hours.",
        ),
        negated=(
            "No nausea or vomiting, and no difficulty eating.",
            "{He} denies any problem with eating or drinking.",
        ),
        reassuring=(
            "{He} is tolerating diet and fluids.",
            "Eating and drinking well.",
            "{He} finished {his} breakfast this morning.",
        ),
        question="Have you managed anything to eat?",
        complaint="I can't face any food, it makes me feel sick.",
        reassurance="Yes, I had all of my breakfast.",
    ),
    BedsideConcept(
        symptom="drowsiness",
        affirmed=(
            "{He} is {degree} drowsy and difficult to rouse at times.",
            "Generalised weakness: {he} has been unable to get out of bed today.",
            "{He} is increasingly lethargic and sleeping most of the day.",
        ),
        negated=(
            "{He} is not drowsy.",
            "No excessive sleepiness reported by the nurses.",
        ),
        reassuring=(
            "{He} is ambulating independently on the ward.",
            "Mobilising with the physiotherapists this morning.",
            "{He} walked to the bathroom unaided.",
        ),
        question="Have you been able to get up and about?",
        complaint="No, I'm too tired, I just want to sleep.",
        reassurance="Yes, I walked down the corridor with the physio.",
    ),
    BedsideConcept(
        symptom="cool peripheries",
        affirmed=(
            "{His} peripheries are cool, {degree} mottled and cyanotic.",
            "Capillary refill is prolonged at 4 seconds and {his} fingers look cyanotic.",
        ),
        negated=(
            "No mottling of the skin.",
            "Capillary refill is not prolonged.",
        ),
        reassuring=(
            "Peripheries are warm and well perfused.",
            "Warm hands with brisk capillary refill.",
        ),
        question="Are your hands and feet cold?",
        complaint="Freezing, I can't get warm.",
        reassurance="No, they feel fine.",
    ),
)
INTENSITIES = ("mild", "moderate", "severe")
DEGREE_WORDS = {
    "mild": ("slightly", "mildly"),
    "moderate": ("noticeably", "clearly"),
    "severe": ("markedly", "very"),
}
OXYGEN_DEVICES = {
    "mild": ("2 L/min via nasal cannula",),
    "moderate": ("4 L/min via nasal cannula", "a 35% Venturi mask"),
    "severe": ("a 60% Venturi mask", "15 L/min via a non-rebreather mask"),
}

# How bedside findings depend on the bedside risk factor (log-odds per SD). A note records
# each concept with probability CONCEPT_DOCUMENTED; present concepts become likelier with risk;
# for absent ones, pertinent negatives are written more often for well patients, which is what
# makes negation matter (rates chosen by hand for a moderate, not perfect, text signal).
CONCEPT_DOCUMENTED = 0.85
AFFIRMED_LOG_ODDS_PER_SD = 2.5
AFFIRMED_BASE_LOG_ODDS = -2.2
NEGATED_LOG_ODDS_PER_SD = -0.8
NEGATED_BASE_LOG_ODDS = 0.2
INTENSITY_CUTS = (0.6, 1.4)  # bedside level (+ noise) above which a finding is moderate, severe
INTENSITY_NOISE_SD = 0.5
UNRELATED_FINDINGS_MAX = 3  # up to this many findings unrelated to risk per note

# What the note says about an explained abnormality. Each names the abnormal vitals with a
# clinical keyword, so the reference text strategy keeps the sentence.
EXPLANATIONS = (
    "{His} tachycardia and tachypnoea since this morning are explained by pain from {his} {site}, "
    "which is being treated with analgesia.",
    "{He} has been very anxious today; the tachycardia and raised respiratory rate are thought "
    "to be due to anxiety.",
    "The tachycardia and tachypnoea are attributed to {his} regular salbutamol nebulisers.",
    "{He} had a febrile reaction to a blood transfusion this morning, which explains the fever "
    "and tachycardia.",
    "The nursing team attribute today's tachycardia and low blood pressure to {his} "
    "antihypertensives being restarted; {he} feels well in {himself}.",
)
PAIN_SITES = ("hip", "back", "abdomen", "leg")

UNRELATED_FINDINGS = (
    "{He} denies chest pain.",
    "No calf swelling or tenderness.",
    "Denies abdominal pain.",
    "No rash.",
    "No headache or neck stiffness.",
    "{He} reports mild constipation.",
    "{He} had a headache overnight that settled with paracetamol.",
    "{He} complains of some lower back discomfort from lying in bed.",
    "The cannula site is clean.",
    "{He} slept poorly because of noise on the ward.",
)


@dataclass(frozen=True)
class Admission:
    reason: str
    symptom: str  # the presenting complaint
    treatment: str
    dose: str
    frequency: str


ADMISSIONS = (
    Admission(
        "community-acquired pneumonia",
        "productive cough",
        "intravenous co-amoxiclav",
        "1.2 g",
        "three times daily",
    ),
    Admission(
        "a urinary tract infection", "dysuria", "intravenous gentamicin", "5 mg/kg", "once daily"
    ),
    Admission(
        "cellulitis of the left leg",
        "leg redness and swelling",
        "intravenous flucloxacillin",
        "2 g",
        "four times daily",
    ),
    Admission(
        "an exacerbation of COPD", "breathlessness", "oral prednisolone", "40 mg", "once daily"
    ),
    Admission(
        "decompensated heart failure",
        "ankle swelling",
        "intravenous furosemide",
        "40 mg",
        "twice daily",
    ),
    Admission(
        "a fractured neck of femur after a fall",
        "hip pain",
        "regular oral morphine",
        "5 mg",
        "four times daily",
    ),
    Admission(
        "acute cholecystitis",
        "right upper quadrant pain",
        "intravenous piperacillin-tazobactam",
        "4.5 g",
        "three times daily",
    ),
    Admission(
        "dehydration after several days of diarrhoea",
        "diarrhoea",
        "intravenous fluids",
        "1 L",
        "every 8 hours",
    ),
)
# (condition, regular medication or None)
HISTORY_CONDITIONS = (
    ("hypertension", "amlodipine 5 mg once daily"),
    ("type 2 diabetes", "metformin 500 mg twice daily"),
    ("atrial fibrillation", "apixaban 5 mg twice daily"),
    ("hypothyroidism", "levothyroxine 75 micrograms daily"),
    ("osteoarthritis", "paracetamol 1 g four times daily"),
    ("chronic kidney disease stage 3", None),
    ("hypercholesterolaemia", "atorvastatin 20 mg at night"),
    ("a previous stroke", "clopidogrel 75 mg daily"),
    ("gastro-oesophageal reflux disease", "omeprazole 20 mg daily"),
    ("depression", "sertraline 50 mg daily"),
    ("asthma", "a salbutamol inhaler as required"),
)
MAX_HISTORY_CONDITIONS = 3
INTRO_PHRASINGS = (
    "A {age}-year-old {person} was admitted to the medical ward with {reason}.",
    (
        "A {age}-year-old {person} presented to the emergency department with {symptom} and "
        "was admitted with {reason}."
    ),
    "We describe a {age}-year-old {person} admitted with {reason}.",
)
HISTORY_PHRASINGS = (
    "{His} past medical history includes {conditions}.",
    "{He} has a background of {conditions}.",
    "{He} is known to have {conditions}.",
)
MEDICATION_PHRASINGS = (
    "{His} regular medications are {medications}.",
    "{He} takes {medications}.",
    "Medications on admission included {medications}.",
)
NO_MEDICATION_PHRASINGS = (
    "{He} takes no regular medications.",
    "{He} is on no regular medication.",
)
LIVING_SITUATIONS = ("alone", "with {his} partner", "with {his} daughter", "in a residential home")
FUNCTION_PHRASES = (
    "is independent with activities of daily living",
    "walks with a stick outdoors",
    "has carers twice a day",
    "still drives and does {his} own shopping",
)
# (smoking status for the summary, as written in the note)
SMOKING_STATUSES = (
    ("lifelong non-smoker", "a lifelong non-smoker"),
    ("ex-smoker", "an ex-smoker"),
    ("current smoker", "a current smoker"),
)
ALCOHOL_PHRASES = (
    "drinks alcohol occasionally",
    "does not drink alcohol",
    "drinks around 10 units of alcohol a week",
)
TREATMENT_PHRASINGS = (
    "{He} was started on {treatment}.",
    "Treatment with {treatment} was commenced on admission.",
    "{He} has been receiving {treatment} since admission.",
)
# The first sentence of a progress note: short, because every word of every note is embedded.
PROGRESS_OPENINGS = (
    "Ward round review.",
    "Medical review.",
    "Nursing review.",
    "Reviewed on the ward.",
    "Seen by the medical team.",
)
PROGRESS_PLAN_ITEMS_PER_NOTE = 1
# The discharge summary's opening, then one sentence that states the outcome in plain words.
DISCHARGE_OPENINGS = (
    "{age}-year-old {person} admitted with {reason}.",
    "This {age}-year-old {person} was admitted with {reason}.",
    "Summary of an admission with {reason}.",
)
# (the outcome as the structured summary's discharge reason, the sentence in the note). Every
# sentence for a deteriorating patient contains a LABEL_LEAK_TERMS word; none for a recovering
# patient does, and each of those says the patient recovered or went home.
DETERIORATION_OUTCOMES = (
    (
        "transferred to intensive care",
        "{He} deteriorated on the ward and was transferred to the intensive care unit on day "
        "{day}.",
    ),
    (
        "transferred to intensive care",
        "After a rapid response call for clinical deterioration {he} was transferred to ICU.",
    ),
    (
        "cardiac arrest",
        "{He} had a cardiac arrest on the ward on day {day} and was transferred to critical care "
        "after resuscitation.",
    ),
    (
        "died",
        "{His} condition deteriorated despite treatment and {he} died on day {day} of the "
        "admission.",
    ),
    (
        "died",
        "{He} had a cardiac arrest on day {day}; resuscitation was unsuccessful and {he} died.",
    ),
)
RECOVERY_OUTCOMES = (
    ("discharged home", "{He} recovered uneventfully and was discharged home on day {day}."),
    (
        "discharged home",
        "{His} symptoms settled with treatment and {he} went home on day {day} after an "
        "uneventful recovery.",
    ),
    ("discharged home", "{He} made a good recovery on the ward and was discharged home."),
    (
        "discharged home",
        "{He} improved steadily without complications and was discharged home on day {day}.",
    ),
)
PLAN_ITEMS = (
    "continue current treatment",
    "repeat bloods in the morning",
    "physiotherapy review",
    "encourage oral fluids",
    "venous thromboembolism prophylaxis",
    "medication review with the pharmacist",
    "update the family after the ward round",
    "four-hourly observations",
)
PLAN_ITEMS_PER_NOTE = 3
PRONOUNS = {
    "Male": {
        "he": "he",
        "He": "He",
        "his": "his",
        "His": "His",
        "him": "him",
        "himself": "himself",
        "person": "man",
    },
    "Female": {
        "he": "she",
        "He": "She",
        "his": "her",
        "His": "Her",
        "him": "her",
        "himself": "herself",
        "person": "woman",
    },
}
MIN_AGE, MAX_AGE = 35, 95  # adults on a general medical ward
SUMMARY_UNKNOWN = "None"  # how the real dataset's summaries write an unknown value


@dataclass(frozen=True)
class Background:
    """Who the patient is and why they are in hospital; unrelated to the risk of deterioration."""

    sex: str
    age: int
    admission: Admission
    history: tuple[tuple[str, str | None], ...]
    smoking: tuple[str, str]
    alcohol: str

    @property
    def medications(self) -> list[str]:
        return [medication for _, medication in self.history if medication]

    @property
    def words(self) -> dict:
        """Values for the template slots of every phrasing."""
        return dict(
            PRONOUNS[self.sex],
            age=self.age,
            reason=self.admission.reason,
            symptom=self.admission.symptom,
            treatment=self.admission.treatment,
        )


@dataclass(frozen=True)
class Finding:
    """One bedside sentence and what it asserts about a concept."""

    concept: BedsideConcept
    polarity: str  # "affirmed", "negated" or "reassuring"
    intensity: str
    sentence: str


@dataclass(frozen=True)
class Patient:
    """Whom a patient's notes are about, and the times that bound them."""

    patient_id: str
    admitted: np.datetime64
    predicted: np.datetime64  # the prediction time: the end of the vital-sign window
    background: Background


def write_patient_notes(
    patient: Patient,
    bedside_level: float,
    has_explanation: bool,
    rng: np.random.Generator,
    times_rng: np.random.Generator,
) -> list[dict]:
    """The records charted at or before the prediction time (``idx`` set later): an admission
    note with the background, then 0-3 short progress notes. The bedside sentences are spread
    over them, so together they say what one note would; each progress note gets at least one."""
    background = patient.background
    words = background.words
    findings = draw_bedside_findings(bedside_level, words, rng)
    n_unrelated = int(rng.integers(0, UNRELATED_FINDINGS_MAX + 1))
    unrelated = rng.choice(len(UNRELATED_FINDINGS), n_unrelated, replace=False)
    # (sentence, the finding it states or None)
    items: list[tuple[str, Finding | None]] = [(finding.sentence, finding) for finding in findings]
    items += [(UNRELATED_FINDINGS[i].format(**words), None) for i in unrelated]
    if has_explanation:
        explanation = _pick(rng, EXPLANATIONS).format(site=_pick(rng, PAIN_SITES), **words)
        items.append((explanation, None))
    opening = describe_background(background, rng)

    fewest, most = PROGRESS_NOTES_PER_PATIENT
    drawn = int(times_rng.integers(fewest, most + 1))
    n_progress = min(drawn, len(items))
    order = rng.permutation(len(items))
    # Note 0 is the admission note; the first n_progress sentences give each progress note one.
    owner = np.concatenate(
        [np.arange(1, n_progress + 1), rng.integers(0, n_progress + 1, len(items) - n_progress)]
    )
    charted = _pre_prediction_times(patient, n_progress, times_rng)

    records = []
    for k, time in enumerate(charted):
        mine = [items[order[j]] for j in np.flatnonzero(owner == k)]
        sentences = [sentence for sentence, _ in mine]
        in_note = [finding for _, finding in mine if finding is not None]
        charttime = _format_time(time)
        symptoms = [
            _symptom(f.concept.symptom, f.intensity, charttime)
            for f in in_note
            if f.polarity == "affirmed"
        ]
        admission = background.admission
        treatments = [
            _treatment(admission.treatment, admission.reason, admission.dose, admission.frequency)
        ]
        if k == 0:
            category, greeting = ADMISSION_CATEGORY, ADMISSION_GREETING
            note = " ".join(opening + sentences)
            full_note = note + "\n\n" + _extra_sections(rng, PLAN_ITEMS_PER_NOTE)
            symptoms.insert(0, _symptom(admission.symptom, SUMMARY_UNKNOWN, "on presentation"))
            treatments += [
                _treatment(medication, condition, SUMMARY_UNKNOWN, SUMMARY_UNKNOWN)
                for condition, medication in background.history
                if medication
            ]
        else:
            category, greeting = PROGRESS_CATEGORY, PROGRESS_GREETING
            note = " ".join([_pick(rng, PROGRESS_OPENINGS)] + sentences)
            full_note = note + "\n\n" + _plan(rng, PROGRESS_PLAN_ITEMS_PER_NOTE)
        records.append(
            {
                "note": note,
                "full_note": full_note,
                "conversation": _conversation(in_note, greeting, rng),
                "summary": json.dumps(_summary(background, symptoms, treatments)),
                DEMO_NOTES_ID_COLUMN: patient.patient_id,
                DEMO_TIME_COLUMN: charttime,
                DEMO_CATEGORY_COLUMN: category,
            }
        )
    return records


def write_discharge_summary(patient: Patient, label: int, rng: np.random.Generator) -> dict:
    """A discharge summary charted 1-10 days after the prediction time that states the outcome."""
    background = patient.background
    low, high = (int(days * 24 * 60) for days in DISCHARGE_DELAY_DAYS)
    charted = patient.predicted + np.timedelta64(int(rng.integers(low, high + 1)) * 60, "s")
    day = int((charted - patient.admitted) // np.timedelta64(1, "D")) + 1
    words = dict(background.words, day=day)
    reason, outcome = _pick(rng, DETERIORATION_OUTCOMES if label else RECOVERY_OUTCOMES)
    outcome = outcome.format(**words)
    note = " ".join([_pick(rng, DISCHARGE_OPENINGS).format(**words), outcome])
    admission = background.admission
    treatments = [
        _treatment(admission.treatment, admission.reason, admission.dose, admission.frequency)
    ]
    discharge = {
        "reason": reason,
        "referral": SUMMARY_UNKNOWN,
        "follow up": SUMMARY_UNKNOWN,
        "discharge summary": outcome,
    }
    return {
        "note": note,
        "full_note": note + "\n\n" + f"Diagnosis on admission: {admission.reason}.",
        "conversation": DISCHARGE_CONVERSATION,
        "summary": json.dumps(_summary(background, [], treatments, discharge)),
        DEMO_NOTES_ID_COLUMN: patient.patient_id,
        DEMO_TIME_COLUMN: _format_time(charted),
        DEMO_CATEGORY_COLUMN: DISCHARGE_CATEGORY,
    }


def _pre_prediction_times(
    patient: Patient, n_progress: int, rng: np.random.Generator
) -> list[np.datetime64]:
    """Chart times of the admission note and ``n_progress`` progress notes, ascending, in whole
    minutes: the admission note in the first hours, the progress notes after it and strictly
    before the prediction time."""
    window_minutes = int((patient.predicted - patient.admitted) // np.timedelta64(60, "s"))
    latest = min(ADMISSION_NOTE_DELAY_HOURS[1] * 60, window_minutes / 2)
    earliest = min(ADMISSION_NOTE_DELAY_HOURS[0] * 60, latest / 2)
    first = int(rng.integers(round(earliest), round(latest) + 1))
    later = np.sort(rng.choice(np.arange(first + 1, window_minutes), n_progress, replace=False))
    return [patient.admitted + np.timedelta64(int(m) * 60, "s") for m in [first, *later]]


def _format_time(time: np.datetime64) -> str:
    return time.astype("datetime64[s]").item().strftime(DEMO_TIME_FORMAT)


def draw_background(rng: np.random.Generator) -> Background:
    picked = rng.choice(
        len(HISTORY_CONDITIONS), int(rng.integers(1, MAX_HISTORY_CONDITIONS + 1)), replace=False
    )
    return Background(
        sex=_pick(rng, ("Male", "Female")),
        age=int(rng.integers(MIN_AGE, MAX_AGE + 1)),
        admission=_pick(rng, ADMISSIONS),
        history=tuple(HISTORY_CONDITIONS[i] for i in sorted(picked)),
        smoking=_pick(rng, SMOKING_STATUSES),
        alcohol=_pick(rng, ALCOHOL_PHRASES),
    )


def describe_background(background: Background, rng: np.random.Generator) -> list[str]:
    """The case-report opening: presentation, history, medications, social history, treatment."""
    conditions = _join(condition for condition, _ in background.history)
    if background.medications:
        medications = _pick(rng, MEDICATION_PHRASINGS).replace(
            "{medications}", _join(background.medications)
        )
    else:
        medications = _pick(rng, NO_MEDICATION_PHRASINGS)
    sentences = [
        _pick(rng, INTRO_PHRASINGS),
        _pick(rng, HISTORY_PHRASINGS).replace("{conditions}", conditions),
        medications,
        f"{{He}} lives {_pick(rng, LIVING_SITUATIONS)} and {_pick(rng, FUNCTION_PHRASES)}.",
        f"{{He}} is {background.smoking[1]} and {background.alcohol}.",
        _pick(rng, TREATMENT_PHRASINGS),
    ]
    return [sentence.format(**background.words) for sentence in sentences]


def draw_bedside_findings(
    bedside_level: float, words: dict, rng: np.random.Generator
) -> list[Finding]:
    """The bedside sentences for one patient, graded by the bedside risk level."""
    findings = []
    for concept in BEDSIDE_CONCEPTS:
        if rng.random() >= CONCEPT_DOCUMENTED:
            continue
        level = bedside_level + INTENSITY_NOISE_SD * rng.standard_normal()
        intensity = INTENSITIES[int(np.searchsorted(INTENSITY_CUTS, level))]
        if rng.random() < expit(AFFIRMED_BASE_LOG_ODDS + AFFIRMED_LOG_ODDS_PER_SD * bedside_level):
            polarity, phrasings = "affirmed", concept.affirmed
        elif rng.random() < expit(NEGATED_BASE_LOG_ODDS + NEGATED_LOG_ODDS_PER_SD * bedside_level):
            polarity, phrasings = "negated", concept.negated
        else:
            polarity, phrasings = "reassuring", concept.reassuring
        slots = dict(
            words,
            degree=_pick(rng, DEGREE_WORDS[intensity]),
            oxygen=_pick(rng, OXYGEN_DEVICES[intensity]),
        )
        findings.append(
            Finding(concept, polarity, intensity, _pick(rng, phrasings).format(**slots))
        )
    return findings


def _extra_sections(rng: np.random.Generator, n_plan_items: int) -> str:
    """Examination, investigations and plan: the longer ``full_note``, unrelated to risk."""
    # Typical spreads for adult medical inpatients; log-normal keeps counts positive.
    labs = (
        f"haemoglobin {rng.normal(125, 15):.0f} g/L, "
        f"white cell count {rng.lognormal(np.log(9.0), 0.35):.1f} x10^9/L, "
        f"CRP {rng.lognormal(np.log(40.0), 0.9):.0f} mg/L, "
        f"creatinine {rng.lognormal(np.log(88.0), 0.3):.0f} micromol/L"
    )
    return (
        "Examination: heart sounds I + II with no added sounds; abdomen soft and non-tender.\n"
        f"Investigations: {labs}.\n" + _plan(rng, n_plan_items)
    )


def _plan(rng: np.random.Generator, n_items: int) -> str:
    plan = [PLAN_ITEMS[i] for i in sorted(rng.choice(len(PLAN_ITEMS), n_items, replace=False))]
    return f"Plan: {'; '.join(plan)}."


ADMISSION_GREETING = "Doctor: Hello, I am one of the ward doctors. How are you feeling?"
PROGRESS_GREETING = "Doctor: How have you been since I last saw you?"
DISCHARGE_CONVERSATION = "Doctor: This summary of the admission has been sent to the GP."


def _conversation(findings: list[Finding], greeting: str, rng: np.random.Generator) -> str:
    """A short doctor/patient exchange that echoes up to two of a note's bedside findings."""
    affirmed = [f for f in findings if f.polarity == "affirmed"]
    reassuring = [f for f in findings if f.polarity == "reassuring"]
    lines = [greeting]
    lines.append("Patient: Not good, doctor." if affirmed else "Patient: Not too bad, thank you.")
    for finding in affirmed[:2]:
        lines += [f"Doctor: {finding.concept.question}", f"Patient: {finding.concept.complaint}"]
    if not affirmed and reassuring:
        finding = _pick(rng, reassuring)
        lines += [f"Doctor: {finding.concept.question}", f"Patient: {finding.concept.reassurance}"]
    lines += [
        "Doctor: Any chest pain?",
        "Patient: No.",
        "Doctor: Thank you, I will come back to see you later.",
    ]
    return "\n".join(lines)


def _summary(
    background: Background,
    symptoms: list[dict],
    treatments: list[dict],
    discharge: dict | None = None,
) -> dict:
    """The structured summary, with the template and "None" placeholders of the real dataset."""
    admission, unknown = background.admission, SUMMARY_UNKNOWN
    return {
        "visit motivation": admission.reason,
        "admission": [
            {
                "reason": admission.reason,
                "date": unknown,
                "duration": unknown,
                "care center details": "medical ward",
            }
        ],
        "patient information": {
            "age": str(background.age),
            "sex": background.sex,
            **_unknowns(
                "ethnicity",
                "weight",
                "height",
                "family medical history",
                "recent travels",
                "socio economic context",
                "occupation",
            ),
        },
        "patient medical history": {
            "physiological context": ", ".join(condition for condition, _ in background.history),
            **_unknowns(
                "psychological context",
                "vaccination history",
                "allergies",
                "exercise frequency",
                "nutrition",
                "sexual history",
            ),
            "alcohol consumption": background.alcohol,
            "drug usage": unknown,
            "smoking status": background.smoking[0],
        },
        "surgeries": [_unknowns("reason", "Type", "time", "outcome", "details")],
        "symptoms": symptoms,
        "medical examinations": [
            {
                "name": "cardiovascular and abdominal examination",
                "result": "unremarkable",
                "details": unknown,
            }
        ],
        "diagnosis tests": [
            {
                "test": "blood tests",
                "severity": unknown,
                "result": "see investigations",
                "condition": admission.reason,
                "time": unknown,
                "details": unknown,
            }
        ],
        "treatments": treatments,
        "discharge": discharge
        or _unknowns("reason", "referral", "follow up", "discharge summary"),
    }


def _unknowns(*keys: str) -> dict:
    return {key: SUMMARY_UNKNOWN for key in keys}


def _symptom(name: str, intensity: str, time: str) -> dict:
    unknown = SUMMARY_UNKNOWN
    return {
        "name of symptom": name,
        "intensity of symptom": intensity,
        "location": unknown,
        "time": time,
        "temporalisation": unknown,
        "behaviours affecting the symptom": unknown,
        "details": unknown,
    }


def _treatment(name: str, condition: str, dose: str, frequency: str) -> dict:
    unknown = SUMMARY_UNKNOWN
    return {
        "name": name,
        "related condition": condition,
        "dosage": dose,
        "time": unknown,
        "frequency": frequency,
        "duration": unknown,
        "reason for taking": condition,
        "reaction to treatment": unknown,
        "details": unknown,
    }


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


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _join(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
