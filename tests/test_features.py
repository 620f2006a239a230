"""Specification of the keyword + negation clinical features (multimodal_deterioration.preparation.features)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from multimodal_deterioration.base import progress
from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.base.workers import NOTES_PER_TASK
from multimodal_deterioration.preparation.features import extract_features
from multimodal_deterioration.preparation.negation import (
    NEGATION_LIST_ITEM_WORDS,
    NEGATION_WINDOW_WORDS,
)
from multimodal_deterioration.preparation.text import split_notes, split_sentences
from multimodal_deterioration.preparation.vocabulary import (
    DETERIORATION_KEYWORDS,
    MEDICATION_KEYWORDS,
    SEVERITY_KEYWORDS,
    SYMPTOM_KEYWORDS,
)

from helpers import NOTE_TEXTS

EXPECTED_COLUMNS = [
    "note_id",
    "symptom_count",
    "medication_count",
    "condition_severity",
    "has_deterioration",
    "deterioration_intensity",
    "sentence_count",
    "summary_symptom_count",
    "summary_treatment_count",
]


def features_of(text: str) -> dict:
    return extract_features([text]).iloc[0].to_dict()


def severity_hits(text: str) -> int:
    return round(features_of(text)["condition_severity"] * 3)


def deterioration_hits(text: str) -> int:
    return round(features_of(text)["deterioration_intensity"] * 5)


# --- each family: affirmed counts, negated does not ------------------------------------------


@pytest.mark.parametrize(
    "affirmed, negated",
    [
        ("The patient had fever.", "The patient had no fever."),
        ("He reports chest pain.", "He denies chest pain."),
        ("She complained of cough.", "She was negative for cough."),
        ("Fever was present.", "Fever was ruled out."),
        ("Headache on admission.", "Absence of headache on admission."),
        ("Dyspnea at rest.", "Free of dyspnea at rest."),
        ("Rash was noted.", "No evidence of rash was noted."),
        ("Edema was present.", "Edema was absent."),
    ],
)
def test_symptom_counted_when_affirmed_and_not_when_negated(affirmed, negated):
    assert features_of(affirmed)["symptom_count"] == 1
    assert features_of(negated)["symptom_count"] == 0


@pytest.mark.parametrize(
    "affirmed, negated",
    [
        ("She was started on aspirin.", "She was not started on aspirin."),
        ("Managed with heparin.", "Managed without heparin."),
        ("He received vancomycin.", "He never received vancomycin."),
    ],
)
def test_medication_counted_when_affirmed_and_not_when_negated(affirmed, negated):
    assert features_of(affirmed)["medication_count"] == 1
    assert features_of(negated)["medication_count"] == 0


@pytest.mark.parametrize(
    "affirmed, negated",
    [
        ("There was severe anaemia.", "There was no severe anaemia."),
        ("A massive effusion.", "Without massive effusion."),
        ("The course was fulminant.", "A fulminant course was unlikely."),
    ],
)
def test_severity_counted_when_affirmed_and_not_when_negated(affirmed, negated):
    assert severity_hits(affirmed) == 1
    assert severity_hits(negated) == 0


@pytest.mark.parametrize(
    "affirmed, negated",
    [
        ("Blood cultures confirmed sepsis.", "Negative for sepsis."),
        ("He developed shock.", "He recovered without shock."),
        ("Sepsis was diagnosed.", "Sepsis was ruled out."),
        ("She was intubated.", "She was not intubated."),
        ("Admitted to the ICU.", "Admission to the ICU was unlikely."),
    ],
)
def test_deterioration_counted_when_affirmed_and_not_when_negated(affirmed, negated):
    assert features_of(affirmed)["has_deterioration"] == 1
    assert deterioration_hits(affirmed) == 1
    assert features_of(negated)["has_deterioration"] == 0
    assert deterioration_hits(negated) == 0


# --- negation scope -------------------------------------------------------------------------


def test_termination_term_ends_negation_scope():
    row = features_of("No fever but severe cough.")
    assert row["symptom_count"] == 1  # cough, not fever
    assert row["condition_severity"] == pytest.approx(1 / 3)


@pytest.mark.parametrize("terminator", ["however", "which", ";", ":", "except"])
def test_other_termination_terms_end_negation_scope(terminator):
    assert features_of(f"No fever {terminator} cough.")["symptom_count"] == 1


def test_negation_does_not_leak_into_next_sentence():
    assert features_of("She denies pain. Fever developed on day 2.")["symptom_count"] == 1
    assert features_of("She said no. Fever developed on day 2.")["symptom_count"] == 1


def test_negation_does_not_leak_across_paragraph_break_without_period():
    assert features_of("Allergies none\n\nfever on admission")["symptom_count"] == 1


def test_coordinated_negation_negates_every_listed_term():
    assert features_of("He denies chest pain, fever, or cough.")["symptom_count"] == 0
    assert features_of("He reports chest pain, fever, or cough.")["symptom_count"] == 3


def test_neither_nor_negates_both_terms():
    assert features_of("Neither fever nor cough was present.")["symptom_count"] == 0


@pytest.mark.parametrize("gap", range(NEGATION_WINDOW_WORDS + 3))
def test_pre_negation_reaches_exactly_the_window(gap):
    text = "No " + "mild " * gap + "fever."
    negated = gap < NEGATION_WINDOW_WORDS
    assert features_of(text)["symptom_count"] == (0 if negated else 1)


@pytest.mark.parametrize("gap", range(NEGATION_WINDOW_WORDS + 3))
def test_post_negation_reaches_exactly_the_window(gap):
    text = "Fever " + "mild " * gap + "was ruled out."
    negated = gap < NEGATION_WINDOW_WORDS
    assert features_of(text)["symptom_count"] == (0 if negated else 1)


def test_post_negation_does_not_negate_mentions_after_it():
    assert features_of("Sepsis was ruled out and fever persisted.")["symptom_count"] == 1


@pytest.mark.parametrize(
    "text, column, expected",
    [
        ("No change in the edema.", "symptom_count", 1),
        ("No increase in the fever.", "symptom_count", 1),
        ("Not only fever but also rash.", "symptom_count", 2),
        ("She walked without difficulty despite pain.", "symptom_count", 1),
        ("Dyspnea did not improve despite furosemide.", "medication_count", 1),
        ("Sepsis could not be ruled out.", "has_deterioration", 1),
    ],
)
def test_pseudo_negations_negate_nothing(text, column, expected):
    assert features_of(text)[column] == expected


# Issue 11, defect 4: a negation's scope ends with its clause. Expected values are the
# sentences' meaning as a reader annotates it, in the manner of the NegEx and ConText papers.


def test_and_starting_a_new_clause_ends_negation_scope():
    text = "She had no fever and was intubated for respiratory failure."
    assert features_of(text)["symptom_count"] == 0  # fever negated
    assert deterioration_hits(text) == 2  # intubation, respiratory failure affirmed


def test_comma_closing_an_introductory_negated_phrase_ends_its_scope():
    text = "Without antibiotics, she developed septic shock."
    assert features_of(text)["medication_count"] == 0  # antibiotics negated
    assert deterioration_hits(text) == 2  # sepsis, shock affirmed


def test_no_response_to_a_drug_means_the_drug_was_given():
    for text in [
        "No response to vasopressors.",
        "She did not respond to vasopressors.",
        "She failed to respond to vasopressors.",
        "She was unresponsive to vasopressors.",
    ]:
        assert features_of(text)["medication_count"] == 1, text


def test_post_posed_ruled_out_without_copula_negates():
    assert features_of("Sepsis ruled out.")["has_deterioration"] == 0


@pytest.mark.parametrize(
    "text, column",
    [
        ("Sepsis excluded.", "has_deterioration"),
        ("Sepsis ruled out by blood cultures.", "has_deterioration"),
        ("Edema absent bilaterally.", "symptom_count"),
        ("Fever not present on admission.", "symptom_count"),
        ("Fever not seen during the stay.", "symptom_count"),
    ],
)
def test_post_posed_triggers_without_copula_negate_the_mention_before_them(text, column):
    assert features_of(text)[column] == 0


def test_bare_ruled_out_negates_its_object_before_or_after_but_not_the_next_clause():
    assert features_of("We ruled out sepsis.")["has_deterioration"] == 0
    assert features_of("Sepsis ruled out.")["has_deterioration"] == 0
    row = features_of("Sepsis ruled out, fever persisted.")
    assert (row["has_deterioration"], row["symptom_count"]) == (0, 1)


@pytest.mark.parametrize(
    "text, column",
    [
        ("She had no fever since starting antibiotics.", "medication_count"),
        ("No chest pain while receiving heparin.", "medication_count"),
        ("No rash after amoxicillin.", "medication_count"),
        ("No cough because she was intubated.", "has_deterioration"),
        ("Without trauma she presented with chest pain.", "symptom_count"),
        ("No fever and required vasopressors.", "medication_count"),
        ("Denies fever and has a cough.", "symptom_count"),
        ("Without sedation, her condition deteriorated.", "has_deterioration"),
        ("No fever, was intubated on day 2.", "has_deterioration"),
    ],
)
def test_termination_terms_of_negex_and_context_end_pre_negation_scope(text, column):
    assert features_of(text)[column] == 1


def test_as_ends_scope_but_such_as_and_as_well_as_continue_a_list():
    assert features_of("No fever as she was on paracetamol.")["medication_count"] == 1
    assert features_of("No symptoms such as fever or cough.")["symptom_count"] == 0
    assert features_of("Denies fever as well as cough.")["symptom_count"] == 0


def test_comma_inside_a_negated_list_keeps_the_list_negated_and_a_clause_after_it_does_not():
    text = "No fever or cough, she was intubated."
    assert features_of(text)["symptom_count"] == 0
    assert features_of(text)["has_deterioration"] == 1
    assert features_of("No fever, cough, or rash was reported.")["symptom_count"] == 0


def test_developed_ends_scope_unless_it_is_the_negated_verb():
    assert features_of("Without antibiotics she developed sepsis.")["has_deterioration"] == 1
    assert features_of("She never developed sepsis.")["has_deterioration"] == 0
    assert features_of("She had not yet developed sepsis.")["has_deterioration"] == 0


@pytest.mark.parametrize(
    "text", ["She was not yet intubated.", "Hypotension was not due to sepsis."]
)
def test_termination_right_after_the_trigger_belongs_to_the_negated_phrase(text):
    assert features_of(text)["has_deterioration"] == 0


def test_relative_pronoun_opening_the_post_negation_does_not_end_its_scope():
    assert (
        features_of("Sepsis, which was excluded on day 2, had been suspected.")["has_deterioration"]
        == 0
    )


def test_was_ruled_out_for_negates_what_follows():
    assert features_of("He was ruled out for sepsis.")["has_deterioration"] == 0


def test_post_negation_scope_starts_after_the_last_termination_before_it():
    text = "She was intubated after sepsis was ruled out."
    assert deterioration_hits(text) == 1  # intubation affirmed, sepsis negated


def test_resolved_symptom_still_counts():
    assert features_of("The fever resolved after two days.")["symptom_count"] == 1


def test_negated_and_affirmed_mentions_of_one_keyword_count_once():
    text = "No fever on admission. Fever developed on day 2."
    assert features_of(text)["symptom_count"] == 1


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(sorted(name for name in SYMPTOM_KEYWORDS if " " not in name)),
        min_size=1,
        max_size=4,
        unique=True,
    )
)
def test_denied_list_counts_zero_and_reported_list_counts_each(names):
    listed = ", ".join(names[:-1]) + (" or " if len(names) > 1 else "") + names[-1]
    assert features_of(f"The patient denies {listed}.")["symptom_count"] == 0
    assert features_of(f"The patient reports {listed}.")["symptom_count"] == len(names)


# Issue "Real notes, real clocks", item 4: features that survive real clinical prose. The
# expected values are the sentences' meaning as a reader annotates it.


@pytest.mark.parametrize(
    "text",
    [
        "Review of systems: negative for tremors, headaches, dizziness, numbness, tingling, "
        "nausea, vomiting, fevers, chills, cough.",
        "ROS negative for fever, chills, night sweats, weight loss, nausea, vomiting, diarrhea, "
        "cough, dyspnea.",
        "Denies chest pain, shortness of breath, palpitations, syncope, nausea, vomiting, "
        "abdominal pain, dysuria or rash.",
        "Fever, chills, cough, wheezing, hemoptysis, night sweats and weight loss were ruled out.",
    ],
)
def test_a_negated_list_stays_negated_to_its_end(text):
    assert features_of(text)["symptom_count"] == 0


@pytest.mark.parametrize(
    "text, symptoms",
    [
        # the list ends at a termination or a clause opener, however long it was
        ("Negative for fever, chills, nausea, vomiting, rash, but reports cough.", 1),
        ("Denies fever, chills, nausea, vomiting, headache, however has a cough.", 1),
        ("No fever, chills, nausea, vomiting, rash; cough since Monday.", 1),
        ("No fever, chills, nausea, vomiting, rash, which is reassuring given the cough.", 1),
        ("No fever, chills, nausea, vomiting, rash, she reports a cough.", 1),
        # an item longer than a list item is read as a clause: the window still ends it
        ("No fever was noted on admission of the patient, cough and rash.", 2),
        ("No fever was noted on the ward and the cough resolved.", 1),
    ],
)
def test_a_negated_list_ends_at_its_clause_end(text, symptoms):
    assert features_of(text)["symptom_count"] == symptoms


def test_a_list_item_may_be_a_few_words_long():
    items = "nausea, vomiting, cough or rash."
    words = " ".join(["left"] * (NEGATION_LIST_ITEM_WORDS - 1))
    assert features_of(f"No {words} pain, {items}")["symptom_count"] == 0
    # one word more: the first item is read as a clause, and the window ends after nausea
    words = " ".join(["left"] * NEGATION_LIST_ITEM_WORDS)
    assert NEGATION_LIST_ITEM_WORDS + 2 == NEGATION_WINDOW_WORDS
    assert features_of(f"No {words} pain, {items}")["symptom_count"] == 3


@pytest.mark.parametrize(
    "text, symptoms",
    [
        ("No change in vision, diplopia or headache.", 0),
        ("No change in vision or headache.", 0),
        ("No significant change in the edema, rash or cough.", 1),  # the edema persists
        ("No change in her chest pain.", 1),
        ("No change in her chest pain, which persists despite rest.", 1),
        ("No change in the cough but new headache.", 2),
    ],
)
def test_no_change_in_exempts_its_own_object_and_negates_the_rest_of_its_list(text, symptoms):
    assert features_of(text)["symptom_count"] == symptoms


@pytest.mark.parametrize(
    "negated, affirmed, column",
    [
        ("ROS -ve for fever or cough.", "ROS +ve for fever or cough.", "symptom_count"),
        ("ROS: negative for fever, cough.", "ROS: positive for fever, cough.", "symptom_count"),
        ("Free of pain and nausea.", "Full of pain and nausea.", "symptom_count"),
        ("Low suspicion for sepsis.", "High suspicion for sepsis.", "has_deterioration"),
        ("No clinical suspicion of sepsis.", "Clinical suspicion of sepsis.", "has_deterioration"),
    ],
)
def test_negation_triggers_of_exported_notes(negated, affirmed, column):
    assert features_of(negated)[column] == 0
    assert features_of(affirmed)[column] > 0


@pytest.mark.parametrize(
    "historical, current, column",
    [
        ("History of sepsis.", "Sepsis on admission.", "has_deterioration"),
        ("Past medical history of seizures.", "Seizures on admission.", "symptom_count"),
        ("H/o seizures and syncope.", "Seizures and syncope.", "symptom_count"),
        ("Hx of seizures.", "Seizures.", "symptom_count"),
        ("Known history of sepsis, now febrile.", "Sepsis, now febrile.", "has_deterioration"),
        ("History of steroid use.", "Steroid use.", "medication_count"),
    ],
)
def test_history_is_not_a_current_finding(historical, current, column):
    assert features_of(historical)[column] == 0
    assert features_of(current)[column] > 0


@pytest.mark.parametrize(
    "text, symptoms",
    [
        ("A 3-day history of fever and cough.", 2),
        ("A two-week history of fever and cough.", 2),
        ("Presented with a 5 day history of fever.", 1),
        ("History of present illness: fever and cough.", 2),
        ("History of asthma, presented with fever and cough.", 2),
        ("H/o seizures; now with fever.", 1),
        ("Known history of sepsis, now febrile.", 1),
    ],
)
def test_a_presenting_history_and_what_follows_a_history_stay_current(text, symptoms):
    assert features_of(text)["symptom_count"] == symptoms


@pytest.mark.parametrize(
    "hypothetical, current, column",
    [
        ("Return if fever or chest pain.", "Returned with fever or chest pain.", "symptom_count"),
        (
            "Return to the ED if shortness of breath.",
            "Came to the ED with shortness of breath.",
            "symptom_count",
        ),
        ("Should she develop a rash, stop.", "She developed a rash.", "symptom_count"),
        (
            "If hypotensive, start norepinephrine.",
            "Hypotensive, on norepinephrine.",
            "medication_count",
        ),
        ("In case of bleeding, stop heparin.", "Bleeding on heparin.", "medication_count"),
        ("Should there be sepsis, call.", "There was sepsis.", "has_deterioration"),
    ],
)
def test_a_hypothetical_mention_is_not_a_current_finding(hypothetical, current, column):
    assert features_of(hypothetical)[column] == 0
    assert features_of(current)[column] > 0


def test_a_clause_after_a_hypothetical_one_is_current():
    row = features_of("If the fever returns she should come back, but the cough is improving.")
    assert row["symptom_count"] == 1  # cough


@pytest.mark.parametrize(
    "text",
    [
        "General anaesthesia with endotracheal intubation.",
        "Under general anesthesia, the patient was intubated and mechanically ventilated.",
        "Intubated uneventfully for the elective repair under anaesthesia.",
        "ANAESTHESIA: general, endotracheal intubation, ventilator settings standard.",
    ],
)
def test_intubation_for_anaesthesia_is_not_deterioration(text):
    assert features_of(text)["has_deterioration"] == 0


@pytest.mark.parametrize(
    "text, hits",
    [
        ("She was intubated for respiratory failure.", 2),
        ("Post-operatively she was reintubated and transferred to the ICU.", 2),
        ("The operation under general anaesthesia was uneventful; she was intubated on day 3.", 1),
        ("Intubated under general anaesthesia; septic shock developed postoperatively.", 2),
        ("Emergency intubation after rapid sequence induction.", 1),
        ("General anaesthesia was complicated by cardiac arrest.", 1),
    ],
)
def test_intubation_outside_anaesthesia_and_other_deterioration_still_count(text, hits):
    assert deterioration_hits(text) == hits


@pytest.mark.parametrize(
    "text",
    [
        "Lidocaine with epinephrine was infiltrated.",
        "Infiltrated with lidocaine 1% with epinephrine 1:100,000.",
        "Local anaesthesia with adrenaline.",
        "Bupivacaine 0.25% with adrenaline at the port sites.",
        "Lignocaine/adrenaline to the wound.",
        "Epinephrine 1:200,000 in the local infiltration.",
    ],
)
def test_epinephrine_of_a_local_anaesthetic_is_not_a_vasopressor(text):
    assert features_of(text)["medication_count"] == 0


@pytest.mark.parametrize(
    "text",
    [
        "Epinephrine infusion for septic shock.",
        "Epinephrine 1:10,000 was given during the cardiac arrest.",
        "Intramuscular adrenaline 1:1000 for anaphylaxis.",
        "She received epinephrine and lidocaine during CPR.",
    ],
)
def test_epinephrine_as_a_drug_still_counts(text):
    assert features_of(text)["medication_count"] >= 1


EXPORTED_NOTES = Path(__file__).parent / "data" / "exported_notes.jsonl"


def test_exported_notes_have_the_counts_written_by_hand():
    """Multi-section notes in exported style (comma-glued lines, section headers); each note's
    expected counts were written by hand, with the reason, in the fixture."""
    notes = [json.loads(line) for line in EXPORTED_NOTES.read_text(encoding="utf-8").splitlines()]
    assert len(notes) == 5
    frame = extract_features(
        [note["text"] for note in notes], note_ids=[n["note_id"] for n in notes]
    )
    for note, (_, row) in zip(notes, frame.iterrows()):
        expected = note["expected"]
        got = {
            "symptom_count": row["symptom_count"],
            "medication_count": row["medication_count"],
            "condition_severity": row["condition_severity"],
            "deterioration_intensity": row["deterioration_intensity"],
            "sentence_count": row["sentence_count"],
        }
        assert got == pytest.approx(
            {
                "symptom_count": expected["symptom_count"],
                "medication_count": expected["medication_count"],
                "condition_severity": min(expected["severity_hits"] / 3, 1.0),
                "deterioration_intensity": min(expected["deterioration_hits"] / 5, 1.0),
                "sentence_count": expected["sentence_count"],
            }
        ), note["note_id"]


# --- counting, caps and scales ----------------------------------------------------------------


def test_repeated_keyword_counts_once():
    text = "Fever on day 1. Fever again on day 3. Fevers persisted; she was febrile."
    assert features_of(text)["symptom_count"] == 1


def test_longer_keyword_owns_its_words():
    assert features_of("Chest pain.")["symptom_count"] == 1
    assert features_of("Chest pain and abdominal pain and back pain.")["symptom_count"] == 3
    row = features_of("Transferred to the critical care unit.")
    assert row["has_deterioration"] == 1
    assert row["condition_severity"] == 0


def test_word_boundaries_are_respected():
    assert features_of("She had returned from Spain.")["symptom_count"] == 0
    assert features_of("Painful swelling.")["symptom_count"] == 2


def test_matching_ignores_case_and_accepts_hyphen_or_space():
    assert severity_hits("LIFE-THREATENING bleeding") == 1
    assert severity_hits("life threatening bleeding") == 1


@pytest.mark.parametrize(
    "family, column, scale",
    [
        (SYMPTOM_KEYWORDS, "symptom_count", 1),
        (MEDICATION_KEYWORDS, "medication_count", 1),
        (SEVERITY_KEYWORDS, "condition_severity", 1 / 3),
        (DETERIORATION_KEYWORDS, "deterioration_intensity", 1 / 5),
    ],
)
def test_every_keyword_is_recognised_as_itself(family, column, scale):
    texts = [f"The report mentions {name}." for name in family]
    frame = extract_features(texts)
    np.testing.assert_allclose(frame[column], scale)


def sentences_with(names) -> str:
    return " ".join(f"Noted {name}." for name in names)


@pytest.mark.parametrize("n", [0, 1, 10, 19, 20, 21, 25])
def test_symptom_count_is_distinct_symptoms_capped_at_20(n):
    names = sorted(name for name in SYMPTOM_KEYWORDS if "pain" not in name)[:n]
    assert len(names) == n
    assert features_of(sentences_with(names))["symptom_count"] == min(n, 20)


@pytest.mark.parametrize("n", [0, 3, 14, 15, 16, 20])
def test_medication_count_is_distinct_medications_capped_at_15(n):
    names = sorted(MEDICATION_KEYWORDS)[:n]
    assert features_of(sentences_with(names))["medication_count"] == min(n, 15)


@pytest.mark.parametrize("n", range(6))
def test_condition_severity_is_hits_over_three_capped_at_one(n):
    names = sorted(SEVERITY_KEYWORDS)[:n]
    assert features_of(sentences_with(names))["condition_severity"] == pytest.approx(
        min(n / 3, 1.0)
    )


@pytest.mark.parametrize("n", range(8))
def test_deterioration_intensity_is_hits_over_five_capped_at_one(n):
    names = sorted(DETERIORATION_KEYWORDS)[:n]
    row = features_of(sentences_with(names))
    assert row["deterioration_intensity"] == pytest.approx(min(n / 5, 1.0))
    assert row["has_deterioration"] == int(n > 0)


def test_sentence_count_is_capped_at_100():
    assert features_of("Stable. " * 40)["sentence_count"] == 40
    assert features_of("Stable. " * 130)["sentence_count"] == 100


# --- summaries ----------------------------------------------------------------------------------


def agbonnet_summary(symptoms, treatments) -> str:
    """A summary in the layout of AGBonnet/augmented-clinical-notes (its template.pdf)."""
    return json.dumps(
        {
            "visit motivation": "Chest pain",
            "admission": [{"reason": "None", "date": "None", "duration": "None"}],
            "patient information": {"age": "54", "sex": "Male"},
            "symptoms": [
                {
                    "name of symptom": name,
                    "intensity of symptom": "None",
                    "location": "None",
                    "time": "None",
                    "temporalisation": "None",
                    "behaviours affecting the symptom": "None",
                    "details": "None",
                }
                for name in symptoms
            ],
            "treatments": [
                {
                    "name": name,
                    "related condition": "None",
                    "dosage": "None",
                    "time": "None",
                    "frequency": "None",
                    "duration": "None",
                    "reason for taking": "None",
                    "reaction to treatment": "None",
                    "details": "None",
                }
                for name in treatments
            ],
            "discharge": {"reason": "None", "referral": "None"},
        }
    )


def summary_counts(summary) -> tuple[float, float]:
    row = extract_features(["Text."], summaries=[summary]).iloc[0]
    return row["summary_symptom_count"], row["summary_treatment_count"]


def test_summary_counts_entries_with_real_names():
    summary = agbonnet_summary(
        ["Chest pain", "Dyspnea", "None"], ["Aspirin", "Heparin", "Clopidogrel", ""]
    )
    assert summary_counts(summary) == (2.0, 3.0)


def test_summary_with_empty_lists_counts_zero():
    assert summary_counts(agbonnet_summary([], [])) == (0.0, 0.0)


def test_summary_section_given_as_none_counts_zero():
    assert summary_counts(json.dumps({"symptoms": "None", "treatments": None})) == (0.0, 0.0)


def test_summary_accepts_a_dict_instead_of_a_list_and_any_key_case():
    summary = json.dumps(
        {
            "Symptoms": {"Name of Symptom": "Fever", "details": "None"},
            "TREATMENTS": [{"Name": "Ceftriaxone"}, {"name": "None"}],
        }
    )
    assert summary_counts(summary) == (1.0, 1.0)


def test_summary_missing_a_key_gives_nan_for_that_count_only():
    symptoms, treatments = summary_counts(json.dumps({"symptoms": [{"name of symptom": "Rash"}]}))
    assert symptoms == 1.0
    assert math.isnan(treatments)


@pytest.mark.parametrize(
    "summary", [None, float("nan"), "", "not json", '{"symptoms": [', "[1, 2]", "null", 42]
)
def test_invalid_or_missing_summary_gives_nan(summary):
    symptoms, treatments = summary_counts(summary)
    assert math.isnan(symptoms) and math.isnan(treatments)


def test_no_summaries_gives_all_nan_columns():
    frame = extract_features(["Fever.", "Cough."])
    assert frame["summary_symptom_count"].isna().all()
    assert frame["summary_treatment_count"].isna().all()


# --- the frame ------------------------------------------------------------------------------------


def test_columns_and_row_order():
    texts = ["No findings.", "Fever and cough.", "Fever, cough and rash."]
    frame = extract_features(texts)
    assert list(frame.columns) == EXPECTED_COLUMNS
    assert frame["note_id"].tolist() == [0, 1, 2]
    assert frame["symptom_count"].tolist() == [0, 2, 3]


def test_column_types():
    frame = extract_features(["Fever.", ""], summaries=[agbonnet_summary(["Fever"], []), None])
    for column in ["symptom_count", "medication_count", "has_deterioration", "sentence_count"]:
        assert frame[column].dtype == np.int64
    for column in [
        "condition_severity",
        "deterioration_intensity",
        "summary_symptom_count",
        "summary_treatment_count",
    ]:
        assert frame[column].dtype == np.float64


def test_note_ids_are_passed_through():
    frame = extract_features(["Fever.", "Cough."], note_ids=["case-17", "case-3"])
    assert frame["note_id"].tolist() == ["case-17", "case-3"]


def test_mismatched_lengths_are_rejected():
    with pytest.raises(PipelineError, match="summaries"):
        extract_features(["a", "b"], summaries=[None])
    with pytest.raises(PipelineError, match="note ids"):
        extract_features(["a", "b"], note_ids=[1])


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t", None, float("nan")])
def test_empty_or_missing_note_gives_zeros(text):
    row = features_of(text)
    for column in EXPECTED_COLUMNS[1:7]:
        assert row[column] == 0


def test_empty_input_gives_empty_frame_with_columns():
    frame = extract_features([])
    assert frame.empty
    assert list(frame.columns) == EXPECTED_COLUMNS


def test_non_ascii_text_works():
    text = "İstanbul: Patientin mit Fieber (39 °C) — fever and naïve café cough. No rash; ß."
    row = features_of(text)
    assert row["symptom_count"] == 2  # fever, cough; rash negated
    assert row["sentence_count"] == 2


def test_progress_bar_is_shown_only_when_asked_and_at_a_terminal(capsys, monkeypatch):
    extract_features(["Fever."], progress=True)
    assert "Clinical features" not in capsys.readouterr().err  # pytest's stderr is no terminal
    monkeypatch.setattr(progress, "is_terminal", lambda stream: True)
    extract_features(["Fever."], progress=False)
    assert "Clinical features" not in capsys.readouterr().err
    extract_features(["Fever."], progress=True)
    assert "Clinical features" in capsys.readouterr().err


def test_a_realistic_case_report():
    note = (
        "A 54-year-old man presented with a 3-day history of fever, productive cough and "
        "shortness of breath. He denied chest pain, palpitations, or nausea. He was hypotensive "
        "(82/50 mmHg). Empirical ceftriaxone and azithromycin were started by Dr. Lee. Despite "
        "this, his condition deteriorated and he was transferred to the intensive care unit, "
        "where he required intubation for acute respiratory failure; norepinephrine was started "
        "for septic shock. Pulmonary embolism was ruled out."
    )
    row = extract_features([note], note_ids=["pmc-1"]).iloc[0]
    assert row["note_id"] == "pmc-1"
    # fever, cough, shortness of breath, hypotension (chest pain, palpitations, nausea denied)
    assert row["symptom_count"] == 4
    assert row["medication_count"] == 3  # ceftriaxone, azithromycin, norepinephrine
    assert row["condition_severity"] == pytest.approx(1 / 3)  # acute
    # deterioration, intensive care, intubation, respiratory failure, sepsis, shock -> capped
    assert row["deterioration_intensity"] == 1.0
    assert row["sentence_count"] == 6


def test_features_are_the_same_split_once_shared_or_over_several_processes():
    """The preparation script splits each note once (``split_notes``, in worker processes) and
    hands the sentences to both stages; nothing may change with that or with the worker count."""
    texts = [f"{t} Seen on day {i}." for i, t in enumerate(NOTE_TEXTS * (NOTES_PER_TASK // 4))]
    serial = extract_features(texts)
    sentences = split_notes(texts, workers=2)
    assert sentences == [split_sentences(t) for t in texts]
    pd.testing.assert_frame_equal(extract_features(texts, sentences=sentences), serial)
    pd.testing.assert_frame_equal(extract_features(texts, workers=2), serial)


@pytest.mark.parametrize(
    "sentence, symptoms",
    [
        ("Former smoker with cough and fever.", 2),
        ("He has a history of asthma and now has shortness of breath.", 1),
        ("History of sepsis and presents with fever.", 1),
        ("History of hypertension, presents with chest pain and fever.", 2),
        ("No fever and now has cough.", 1),
    ],
)
def test_a_history_or_negation_ends_where_the_present_resumes(sentence, symptoms):
    assert features_of(sentence)["symptom_count"] == symptoms
