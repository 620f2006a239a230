"""Where each demo sample sits in its stay, and whether its notes exist by the prediction time.

Linked EHR data have samples without an eligible note: a stay whose first notes are charted
after the prediction time, a unit whose notes are not in the export. The demo draws these
situations per patient, so that the pipeline's zero text vectors, counts and subgroup reports
are exercised the way real data exercise them:

* the *day of the stay* the 24-hour vital-sign window falls on (``WINDOW_DAY_SHARES``): most
  samples predict at the end of the first day, others at the end of a later one, so the
  admission note can be days old at the prediction time;
* a *late first note* (``LATE_FIRST_NOTE_SHARE``): the patient was clerked where the notes are
  not exported (the emergency department, another hospital), and the ward's admission note is
  charted 1-36 h after the end of the first day's window; on the first day that is after the
  prediction time. Sicker patients are seen and written up sooner, so the share falls mildly
  with the physiological risk, which the vitals show anyway;
* *no notes at all* (``UNDOCUMENTED_SHARE``), independently of everything else: the patient's
  notes never reach the export (a discharge summary may still be written).

Whole days keep each window's clock hours, so the vital signs do not depend on these draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit

# Share of samples whose window is the 1st, 2nd, 3rd, 4th day of the stay. Chosen by hand, with
# the two shares below, so that in the default demo (2,000 patients, seed 0) 22% of the samples
# have no note before the prediction time, and the most recent one is under 6 h old for 20%,
# 6-24 h for 38% and over a day for 19%, each group of the test split holding at least 10
# deteriorating patients (the fewest the evidence's subgroups estimate).
WINDOW_DAY_SHARES = (0.50, 0.25, 0.15, 0.10)
# Share of patients whose ward notes start late, at the population's mean risk, and its change
# in log-odds per SD of the physiological factor (mild: sicker patients are written up sooner).
LATE_FIRST_NOTE_SHARE = 0.30
LATE_FIRST_NOTE_LOG_ODDS_PER_SD = -0.15
# A late first note is charted this many hours after the end of the first day's window.
LATE_FIRST_NOTE_DELAY_HOURS = (1.0, 36.0)
# Share of patients with no ward note in the export at all (a discharge summary may still be
# written).
UNDOCUMENTED_SHARE = 0.07


@dataclass(frozen=True)
class Documentation:
    """Per patient: the day of the stay its window falls on (0 = the first), the minutes from
    admission to a late first note (-1 where the first note is on time), and whether it has
    notes at all."""

    window_day: np.ndarray  # (patients,) int64
    late_first_note_minutes: np.ndarray  # (patients,) int64, -1 = on time
    documented: np.ndarray  # (patients,) bool


def draw_documentation(
    physiological: np.ndarray, window_hours: int, rng: np.random.Generator
) -> Documentation:
    """Draw each patient's window day, late first note and whether it is documented."""
    n_patients = physiological.shape[0]
    window_day = rng.choice(len(WINDOW_DAY_SHARES), n_patients, p=WINDOW_DAY_SHARES)
    late_odds = logit(LATE_FIRST_NOTE_SHARE) + LATE_FIRST_NOTE_LOG_ODDS_PER_SD * physiological
    late = rng.random(n_patients) < expit(late_odds)
    low, high = (round(hours * 60) for hours in LATE_FIRST_NOTE_DELAY_HOURS)
    delay = window_hours * 60 + rng.integers(low, high + 1, n_patients)
    documented = rng.random(n_patients) >= UNDOCUMENTED_SHARE
    return Documentation(
        window_day=window_day.astype(np.int64),
        late_first_note_minutes=np.where(late, delay, -1).astype(np.int64),
        documented=documented,
    )
