"""Turning a simulated patient into note records: the schema, chart times and texts.

Each documented patient gets an admission note and 0-3 short progress notes, charted before the
prediction time unless its first note is late (``documentation.py``), and optionally a discharge
summary charted after it that states the outcome (see the package docstring). Records follow
``AGBonnet/augmented-clinical-notes`` (``note``, ``full_note``, ``conversation``, ``summary``)
plus the id, chart-time and category columns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from .phrases import (
    ADMISSION_GREETING,
    ADMISSIONS,
    ALCOHOL_PHRASES,
    BEDSIDE_CONCEPTS,
    DEGREE_WORDS,
    DETERIORATION_OUTCOMES,
    DISCHARGE_CONVERSATION,
    DISCHARGE_OPENINGS,
    EXPLANATIONS,
    FUNCTION_PHRASES,
    HISTORY_CONDITIONS,
    HISTORY_PHRASINGS,
    INTENSITIES,
    INTRO_PHRASINGS,
    LIVING_SITUATIONS,
    MEDICATION_PHRASINGS,
    NO_MEDICATION_PHRASINGS,
    OXYGEN_DEVICES,
    PAIN_SITES,
    PLAN_ITEMS,
    PROGRESS_GREETING,
    PROGRESS_OPENINGS,
    PRONOUNS,
    RECOVERY_OUTCOMES,
    SMOKING_STATUSES,
    TREATMENT_PHRASINGS,
    UNRELATED_FINDINGS,
    Admission,
    BedsideConcept,
)
from .summary_record import (
    SUMMARY_UNKNOWN,
    structured_summary,
    symptom_entry,
    treatment_entry,
)

# The notes file's id, time and category columns, and the three kinds of note the demo writes.
DEMO_NOTES_ID_COLUMN = "patient_id"
DEMO_TIME_COLUMN = "charttime"
DEMO_CATEGORY_COLUMN = "category"
ADMISSION_CATEGORY = "Admission note"
PROGRESS_CATEGORY = "Progress note"
DISCHARGE_CATEGORY = "Discharge summary"
NOTE_CATEGORIES = (ADMISSION_CATEGORY, PROGRESS_CATEGORY, DISCHARGE_CATEGORY)
DEMO_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # ISO-8601 without a time zone, as MIMIC charts times
# The admission note is written once the patient has been clerked: within the first few hours
# (capped at half the observation window when the window is shorter than 8 hours), unless it is
# late (documentation.py).
ADMISSION_NOTE_DELAY_HOURS = (0.5, 4.0)
# Progress notes per patient (inclusive range); with the admission note, each documented
# patient has 1-4 ward notes, all of which the model may read unless the first note is late.
# They are short (a few bedside sentences) so the words per patient, which the embedding time
# of the demo grows with, stay about those of one note.
PROGRESS_NOTES_PER_PATIENT = (0, 3)
NOTES_PER_PATIENT = (1, PROGRESS_NOTES_PER_PATIENT[1] + 1)  # ward notes of a documented patient
DISCHARGE_DELAY_DAYS = (1.0, 10.0)  # from the prediction time to the discharge summary

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

MAX_HISTORY_CONDITIONS = 3
PROGRESS_PLAN_ITEMS_PER_NOTE = 1
PLAN_ITEMS_PER_NOTE = 3
MIN_AGE, MAX_AGE = 35, 95  # adults on a general medical ward


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
    window_hours: int  # the vital-sign window, which ends at ``predicted``
    late_first_note_minutes: int = -1  # from admission to a late first note; -1: on time


def write_patient_notes(
    patient: Patient,
    bedside_level: float,
    has_explanation: bool,
    rng: np.random.Generator,
    times_rng: np.random.Generator,
) -> list[dict]:
    """The patient's ward notes (``idx`` set later): an admission note with the background, then
    0-3 short progress notes, all before the prediction time unless the first note is late
    (``_chart_times``). The bedside sentences are spread over them, so together they say what
    one note would; each progress note gets at least one. The explanation of an abnormal vital
    sign is written in every note, as a known cause is charted again at each review: whichever
    notes a sample may read, they say it."""
    background = patient.background
    items = _bedside_sentences(background, bedside_level, has_explanation, rng)
    explanation = items.pop() if has_explanation else None
    opening = describe_background(background, rng)

    fewest, most = PROGRESS_NOTES_PER_PATIENT
    drawn = int(times_rng.integers(fewest, most + 1))
    n_progress = min(drawn, len(items))
    order = rng.permutation(len(items))
    # Note 0 is the admission note; the first n_progress sentences give each progress note one.
    owner = np.concatenate(
        [np.arange(1, n_progress + 1), rng.integers(0, n_progress + 1, len(items) - n_progress)]
    )
    charted = _chart_times(patient, n_progress, times_rng)
    records = []
    for k, time in enumerate(charted):
        mine = [items[order[j]] for j in np.flatnonzero(owner == k)]
        if explanation is not None:
            mine.insert(int(rng.integers(0, len(mine) + 1)), explanation)
        records.append(_note_record(patient, k, _format_time(time), mine, opening, rng))
    return records


def _bedside_sentences(
    background: Background, bedside_level: float, has_explanation: bool, rng: np.random.Generator
) -> list[tuple[str, Finding | None]]:
    """A patient's bedside sentences, each with the finding it states (None for a finding
    unrelated to risk, or the explanation of an abnormal vital sign, which comes last)."""
    words = background.words
    findings = draw_bedside_findings(bedside_level, words, rng)
    n_unrelated = int(rng.integers(0, UNRELATED_FINDINGS_MAX + 1))
    unrelated = rng.choice(len(UNRELATED_FINDINGS), n_unrelated, replace=False)
    items: list[tuple[str, Finding | None]] = [(finding.sentence, finding) for finding in findings]
    items += [(UNRELATED_FINDINGS[i].format(**words), None) for i in unrelated]
    if has_explanation:
        explanation = _pick(rng, EXPLANATIONS).format(site=_pick(rng, PAIN_SITES), **words)
        items.append((explanation, None))
    return items


def _note_record(
    patient: Patient,
    number: int,
    charttime: str,
    mine: list[tuple[str, Finding | None]],
    opening: list[str],
    rng: np.random.Generator,
) -> dict:
    """Note ``number`` of a patient (0: the admission note, which opens with the background; else a
    progress note) holding the bedside sentences ``mine``, as a record of the notes file."""
    background = patient.background
    sentences = [sentence for sentence, _ in mine]
    in_note = [finding for _, finding in mine if finding is not None]
    symptoms = [
        symptom_entry(f.concept.symptom, f.intensity, charttime)
        for f in in_note
        if f.polarity == "affirmed"
    ]
    admission = background.admission
    treatments = [
        treatment_entry(admission.treatment, admission.reason, admission.dose, admission.frequency)
    ]
    if number == 0:
        category, greeting = ADMISSION_CATEGORY, ADMISSION_GREETING
        note = " ".join(opening + sentences)
        full_note = note + "\n\n" + _extra_sections(rng, PLAN_ITEMS_PER_NOTE)
        symptoms.insert(0, symptom_entry(admission.symptom, SUMMARY_UNKNOWN, "on presentation"))
        treatments += [
            treatment_entry(medication, condition, SUMMARY_UNKNOWN, SUMMARY_UNKNOWN)
            for condition, medication in background.history
            if medication
        ]
    else:
        category, greeting = PROGRESS_CATEGORY, PROGRESS_GREETING
        note = " ".join([_pick(rng, PROGRESS_OPENINGS)] + sentences)
        full_note = note + "\n\n" + _plan(rng, PROGRESS_PLAN_ITEMS_PER_NOTE)
    return {
        "note": note,
        "full_note": full_note,
        "conversation": _conversation(in_note, greeting, rng),
        "summary": json.dumps(structured_summary(background, symptoms, treatments)),
        DEMO_NOTES_ID_COLUMN: patient.patient_id,
        DEMO_TIME_COLUMN: charttime,
        DEMO_CATEGORY_COLUMN: category,
    }


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
        treatment_entry(admission.treatment, admission.reason, admission.dose, admission.frequency)
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
        "summary": json.dumps(structured_summary(background, [], treatments, discharge)),
        DEMO_NOTES_ID_COLUMN: patient.patient_id,
        DEMO_TIME_COLUMN: _format_time(charted),
        DEMO_CATEGORY_COLUMN: DISCHARGE_CATEGORY,
    }


def _chart_times(
    patient: Patient, n_progress: int, rng: np.random.Generator
) -> list[np.datetime64]:
    """Chart times of the admission note and ``n_progress`` progress notes, ascending, in whole
    minutes. The admission note is charted in the first hours after admission, or at
    ``patient.late_first_note_minutes`` when it is late; the progress notes follow it, before
    the prediction time, or within one window's length of a late note charted after (or just
    before) the prediction time."""
    stay = int((patient.predicted - patient.admitted) // np.timedelta64(60, "s"))
    window = patient.window_hours * 60
    latest = min(ADMISSION_NOTE_DELAY_HOURS[1] * 60, window / 2)
    earliest = min(ADMISSION_NOTE_DELAY_HOURS[0] * 60, latest / 2)
    first = int(rng.integers(round(earliest), round(latest) + 1))
    if patient.late_first_note_minutes >= 0:
        first = patient.late_first_note_minutes
    end = stay if stay - first >= window / 2 else first + window
    later = np.sort(rng.choice(np.arange(first + 1, end), n_progress, replace=False))
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


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _join(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
