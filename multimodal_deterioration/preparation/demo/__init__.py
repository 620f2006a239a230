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
notes say so (each of the patient's notes: a known cause is charted again at every review).
Such notes are unrelated to the label on their own; they help only when read
together with the same patient's vitals. This is what the pipeline's controls are meant to see:
pairing notes at random, or at random within each class, removes that part of the gain, while
the correctly linked fused model keeps it.

Time. Each patient is admitted at some minute of 2131 (MIMIC-style shifted dates). Its sample
is the ``n_timesteps`` hourly observations of one day of the stay -- the first day for most
patients, a later one for the others -- and its prediction time (``times_{split}`` in the
vitals file) is the end of that window. A documented patient has an *Admission note*
(presentation, history, medications, social history, treatment), charted in the first hours
after admission, and 0-3 short *Progress notes* charted after it and before the prediction
time. The bedside sentences are spread over these notes, so together they say what one note
would, in about the same number of words. Nothing in these ward notes names the outcome: they
describe the patient's state at the time of writing.

Samples without notes. As in linked EHR data, about a fifth of the samples have no note charted
before their prediction time (``documentation.py``): for some patients the ward's first note is
charted late, after the first day's window (on the first day, after the prediction time; those
notes are then excluded and counted like any note charted after it), and a few patients have no
ward notes at all. Both are spread over the two classes, the late notes only mildly less often
for sicker patients. The age of the most recent note at the prediction time ranges from minutes
to days (a patient on day 3 whose last note was its admission note).

For ``DISCHARGE_SUMMARY_SHARE`` of the patients, drawn independently of the label, a *Discharge
summary* charted 1-10 days after the prediction time states the outcome in plain words
(transferred to intensive care, cardiac arrest, died; or recovered and went home). These notes
exist to show what a leak looks like: a pipeline that ignores chart times, or reads notes
written after the outcome, scores far above what the honest notes allow.

The vitals follow the user's ``processed_data.npz`` contract (with ``times_{split}``) and the
notes the schema of ``AGBonnet/augmented-clinical-notes`` plus ``patient_id``, ``charttime``
(ISO-8601, "YYYY-MM-DD HH:MM:SS") and ``category`` columns, so the demo runs through exactly the
code path a user's own linked, timed files take.

The package, one concern per module:

* ``simulator.py`` -- latent factors, labels, admission times, vital signs and the splits;
* ``documentation.py`` -- which day of the stay each window falls on, late first notes and
  patients without notes;
* ``phrases.py`` -- the words of the notes (bedside concepts, case-report background,
  outcomes), plain tables;
* ``note_writer.py`` -- turns a simulated patient into timed note records;
* ``summary_record.py`` -- the structured summary JSON of each note record;
* ``cohort.py`` -- assembles the cohort (``make_demo_cohort``) and writes the two input files
  (``write_demo_inputs``).
"""

from .cohort import (
    DEFAULT_N_PATIENTS,
    DEFAULT_N_TIMESTEPS,
    DEMO_ID_PREFIX,
    DEMO_NOTES_FILENAME,
    DEMO_VITALS_FILENAME,
    DISCHARGE_SUMMARY_SHARE,
    MIN_PATIENTS,
    DemoCohort,
    DemoInputs,
    make_demo_cohort,
    write_demo_inputs,
)
from .documentation import (
    LATE_FIRST_NOTE_SHARE,
    UNDOCUMENTED_SHARE,
    WINDOW_DAY_SHARES,
    Documentation,
)
from .note_writer import (
    ADMISSION_CATEGORY,
    ADMISSION_NOTE_DELAY_HOURS,
    DEMO_CATEGORY_COLUMN,
    DEMO_NOTES_ID_COLUMN,
    DEMO_TIME_COLUMN,
    DISCHARGE_CATEGORY,
    DISCHARGE_DELAY_DAYS,
    NOTES_PER_PATIENT,
    PROGRESS_CATEGORY,
)
from .phrases import BEDSIDE_CONCEPTS, LABEL_LEAK_TERMS
from .simulator import (
    DEMO_FEATURE_NAMES,
    EXPLAINED_ABNORMALITY_RATE,
    SPLIT_FRACTIONS,
    SPLIT_NAMES,
    TARGET_PREVALENCE,
    VITAL_SIGNS,
)
from .summary_record import SUMMARY_UNKNOWN

__all__ = [
    "ADMISSION_CATEGORY",
    "ADMISSION_NOTE_DELAY_HOURS",
    "BEDSIDE_CONCEPTS",
    "DEFAULT_N_PATIENTS",
    "DEFAULT_N_TIMESTEPS",
    "DEMO_CATEGORY_COLUMN",
    "DEMO_FEATURE_NAMES",
    "DEMO_ID_PREFIX",
    "DEMO_NOTES_FILENAME",
    "DEMO_NOTES_ID_COLUMN",
    "DEMO_TIME_COLUMN",
    "DEMO_VITALS_FILENAME",
    "DISCHARGE_CATEGORY",
    "DISCHARGE_DELAY_DAYS",
    "DISCHARGE_SUMMARY_SHARE",
    "EXPLAINED_ABNORMALITY_RATE",
    "LABEL_LEAK_TERMS",
    "LATE_FIRST_NOTE_SHARE",
    "MIN_PATIENTS",
    "NOTES_PER_PATIENT",
    "PROGRESS_CATEGORY",
    "SPLIT_FRACTIONS",
    "SPLIT_NAMES",
    "SUMMARY_UNKNOWN",
    "TARGET_PREVALENCE",
    "UNDOCUMENTED_SHARE",
    "VITAL_SIGNS",
    "WINDOW_DAY_SHARES",
    "DemoCohort",
    "DemoInputs",
    "Documentation",
    "make_demo_cohort",
    "write_demo_inputs",
]
