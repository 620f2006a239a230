"""A deterministic synthetic cohort (vitals + linked notes) for ``--demo`` and the tests.

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
the correctly linked fused model keeps it. Nothing in a note names the outcome: notes describe
the patient's state at the time of writing.

The vitals follow the user's ``processed_data.npz`` contract and the notes the schema of
``AGBonnet/augmented-clinical-notes`` (plus a ``patient_id`` column), so the demo runs through
exactly the code path a user's own files take.
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
# patient-specific, not a stand-in for the label.
PHYSIOLOGICAL_LOG_ODDS = 2.8
BEDSIDE_LOG_ODDS = 1.2
# Share of patients with an explained, risk-free abnormality, and its size in the same units as
# the physiological factor (so in the vitals it looks like a patient ~1-2 SD at risk).
EXPLAINED_ABNORMALITY_RATE = 0.4
EXPLAINED_ABNORMALITY_SIZE = (1.0, 2.0)

# Words that would name the outcome instead of describing the patient; no note may contain them.
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
    """Simulate ``n_patients`` patients: vital-sign sequences, labels and one note each."""
    if n_patients < MIN_PATIENTS:
        raise PipelineError(
            f"the demo cohort needs at least {MIN_PATIENTS} patients (got {n_patients}) so every "
            "split holds both classes; pass a larger number"
        )
    if n_timesteps < 2:
        raise PipelineError(
            f"the demo cohort needs at least 2 time steps (got {n_timesteps}) to show a trend"
        )
    latent_rng, vitals_rng, split_rng, notes_rng, order_rng = np.random.default_rng(seed).spawn(5)
    physiological = latent_rng.standard_normal(n_patients)
    bedside = latent_rng.standard_normal(n_patients)
    labels = draw_labels(physiological, bedside, latent_rng)
    explained = draw_explained_abnormalities(n_patients, latent_rng)
    vitals = simulate_vitals(physiological, explained, n_timesteps, vitals_rng)
    ids = np.array([f"{DEMO_ID_PREFIX}{i + 1:05d}" for i in range(n_patients)])
    splits = stratified_split(labels, split_rng)

    arrays: dict[str, np.ndarray] = {}
    for name, rows in zip(SPLIT_NAMES, splits):
        arrays[f"X_{name}"] = vitals[rows]
        arrays[f"y_{name}"] = labels[rows]
        arrays[f"ids_{name}"] = ids[rows]
    arrays["feature_names"] = np.array(DEMO_FEATURE_NAMES)

    notes = [
        write_note_record(str(patient_id), level, size > 0, notes_rng)
        for patient_id, level, size in zip(ids, bedside, explained)
    ]
    shuffled = [notes[i] for i in order_rng.permutation(n_patients)]
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
    physiological: np.ndarray, explained: np.ndarray, n_timesteps: int, rng: np.random.Generator
) -> np.ndarray:
    """Hourly charted vitals, float32 of shape (patients, n_timesteps, len(VITAL_SIGNS))."""
    n_patients = physiological.shape[0]
    progress = np.linspace(0.0, 1.0, n_timesteps)  # fraction of the observation window
    values = (
        draw_baselines(n_patients, rng)[:, None, :]
        + risk_trends(physiological, explained, progress, rng)
        + unrelated_drift(n_patients, progress, rng)
        + circadian_rhythm(n_patients, n_timesteps, rng)
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


def circadian_rhythm(n_patients: int, n_timesteps: int, rng: np.random.Generator) -> np.ndarray:
    """Daily variation; each patient's window starts at a random clock hour."""
    clock_hour = rng.integers(0, 24, n_patients)[:, None] + np.arange(n_timesteps)
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
REVIEW_PHRASINGS = (
    "{He} was seen on the ward round on day {day} of the admission.",
    "This review took place on day {day} of {his} stay.",
    "On day {day} of the admission {he} was reviewed by the medical team.",
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
MAX_REVIEW_DAY = 6
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
    review_day: int

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
            day=self.review_day,
        )


@dataclass(frozen=True)
class Finding:
    """One bedside sentence and what it asserts about a concept."""

    concept: BedsideConcept
    polarity: str  # "affirmed", "negated" or "reassuring"
    intensity: str
    sentence: str


def write_note_record(
    patient_id: str, bedside_level: float, has_explanation: bool, rng: np.random.Generator
) -> dict:
    """A note record in the augmented-clinical-notes schema for one patient (``idx`` set later)."""
    background = draw_background(rng)
    words = background.words
    findings = draw_bedside_findings(bedside_level, words, rng)
    n_unrelated = int(rng.integers(0, UNRELATED_FINDINGS_MAX + 1))
    unrelated = rng.choice(len(UNRELATED_FINDINGS), n_unrelated, replace=False)
    review = [finding.sentence for finding in findings]
    review += [UNRELATED_FINDINGS[i].format(**words) for i in unrelated]
    if has_explanation:
        review.append(_pick(rng, EXPLANATIONS).format(site=_pick(rng, PAIN_SITES), **words))
    note = " ".join(
        describe_background(background, rng) + [review[i] for i in rng.permutation(len(review))]
    )
    return {
        "note": note,
        "full_note": note + "\n\n" + _extra_sections(rng),
        "conversation": _conversation(findings, rng),
        "summary": json.dumps(_summary(background, findings)),
        DEMO_NOTES_ID_COLUMN: patient_id,
    }


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
        review_day=int(rng.integers(1, MAX_REVIEW_DAY + 1)),
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
        _pick(rng, REVIEW_PHRASINGS),
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


def _extra_sections(rng: np.random.Generator) -> str:
    """Examination, investigations and plan: the longer ``full_note``, unrelated to risk."""
    # Typical spreads for adult medical inpatients; log-normal keeps counts positive.
    labs = (
        f"haemoglobin {rng.normal(125, 15):.0f} g/L, "
        f"white cell count {rng.lognormal(np.log(9.0), 0.35):.1f} x10^9/L, "
        f"CRP {rng.lognormal(np.log(40.0), 0.9):.0f} mg/L, "
        f"creatinine {rng.lognormal(np.log(88.0), 0.3):.0f} micromol/L"
    )
    plan = [
        PLAN_ITEMS[i]
        for i in sorted(rng.choice(len(PLAN_ITEMS), PLAN_ITEMS_PER_NOTE, replace=False))
    ]
    return (
        "Examination: heart sounds I + II with no added sounds; abdomen soft and non-tender.\n"
        f"Investigations: {labs}.\n"
        f"Plan: {'; '.join(plan)}."
    )


def _conversation(findings: list[Finding], rng: np.random.Generator) -> str:
    """A short doctor/patient exchange that echoes up to two bedside findings."""
    affirmed = [f for f in findings if f.polarity == "affirmed"]
    reassuring = [f for f in findings if f.polarity == "reassuring"]
    lines = ["Doctor: Good morning, how have you been since yesterday?"]
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


def _summary(background: Background, findings: list[Finding]) -> dict:
    """The structured summary, with the template and "None" placeholders of the real dataset."""
    admission, unknown = background.admission, SUMMARY_UNKNOWN
    symptoms = [_symptom(admission.symptom, unknown, "on presentation")]
    symptoms += [
        _symptom(f.concept.symptom, f.intensity, f"day {background.review_day} of admission")
        for f in findings
        if f.polarity == "affirmed"
    ]
    treatments = [
        _treatment(admission.treatment, admission.reason, admission.dose, admission.frequency)
    ]
    treatments += [
        _treatment(medication, condition, unknown, unknown)
        for condition, medication in background.history
        if medication
    ]
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
        "discharge": _unknowns("reason", "referral", "follow up", "discharge summary"),
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
    keys = ("idx", "note", "full_note", "conversation", "summary", DEMO_NOTES_ID_COLUMN)
    return {key: record[key] for key in keys}


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _join(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
