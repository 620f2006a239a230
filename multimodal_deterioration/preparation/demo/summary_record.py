"""The structured ``summary`` of a demo note: the JSON template of
``AGBonnet/augmented-clinical-notes``, with its "None" placeholders where a value is unknown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: note_writer imports this module
    from .note_writer import Background

SUMMARY_UNKNOWN = "None"  # how the real dataset's summaries write an unknown value


def structured_summary(
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
        "patient information": patient_information(background),
        "patient medical history": medical_history(background),
        "surgeries": [unknowns("reason", "Type", "time", "outcome", "details")],
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
        "discharge": discharge or unknowns("reason", "referral", "follow up", "discharge summary"),
    }


def patient_information(background: Background) -> dict:
    """The summary's "patient information": age and sex, the rest unknown."""
    return {
        "age": str(background.age),
        "sex": background.sex,
        **unknowns(
            "ethnicity",
            "weight",
            "height",
            "family medical history",
            "recent travels",
            "socio economic context",
            "occupation",
        ),
    }


def medical_history(background: Background) -> dict:
    """The summary's "patient medical history": conditions, alcohol and smoking."""
    return {
        "physiological context": ", ".join(condition for condition, _ in background.history),
        **unknowns(
            "psychological context",
            "vaccination history",
            "allergies",
            "exercise frequency",
            "nutrition",
            "sexual history",
        ),
        "alcohol consumption": background.alcohol,
        "drug usage": SUMMARY_UNKNOWN,
        "smoking status": background.smoking[0],
    }


def unknowns(*keys: str) -> dict:
    """Each of ``keys`` with the unknown placeholder.

    >>> unknowns("date", "duration")
    {'date': 'None', 'duration': 'None'}
    """
    return {key: SUMMARY_UNKNOWN for key in keys}


def symptom_entry(name: str, intensity: str, time: str) -> dict:
    """One entry of the summary's "symptoms"."""
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


def treatment_entry(name: str, condition: str, dose: str, frequency: str) -> dict:
    """One entry of the summary's "treatments"."""
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
