"""Specification of sentence splitting and keyword matching (multimodal_deterioration.preparation.text)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.tokenize.punkt import PunktSentenceTokenizer

from multimodal_deterioration.preparation import text
from multimodal_deterioration.preparation.text import (
    KEYWORD_PATTERN,
    has_clinical_keyword,
    keyword_of,
    split_sentences,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


# --- sentence splitting -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "She was seen by Dr. Smith on day 2. Fever resolved.",
            ["She was seen by Dr. Smith on day 2.", "Fever resolved."],
        ),
        (
            "Antibiotics (e.g. vancomycin) were given. She improved.",
            ["Antibiotics (e.g. vancomycin) were given.", "She improved."],
        ),
        ("Aspirin 325 mg. daily was started.", ["Aspirin 325 mg. daily was started."]),
        ("He took aspirin 325 mg. The pain eased.", ["He took aspirin 325 mg.", "The pain eased."]),
        ("Ceftriaxone 2 g. The fever resolved.", ["Ceftriaxone 2 g.", "The fever resolved."]),
        ("Pain, cough, i.e. flu-like symptoms.", ["Pain, cough, i.e. flu-like symptoms."]),
        ("Temperature was 39.5. She was febrile.", ["Temperature was 39.5.", "She was febrile."]),
        ("  First one.\n\nSecond one  ", ["First one.", "Second one"]),
        ("", []),
        ("   \n\t ", []),
    ],
)
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


# Exported notes glue their lines with commas (issue "Real notes, real clocks", item 4).


@pytest.mark.parametrize(
    "text, expected",
    [
        ("No fever.,Cough since Monday.", ["No fever.", "Cough since Monday."]),
        ("No fever., Cough since Monday.", ["No fever.", "Cough since Monday."]),
        ("No fever.Cough since Monday.", ["No fever.", "Cough since Monday."]),
        ("HR 96.,Lungs clear.", ["HR 96.", "Lungs clear."]),
        ("Moved to ICU.,She improved.", ["Moved to ICU.", "She improved."]),
        ("Lungs clear.,ASSESSMENT:,Pneumonia.", ["Lungs clear.", "ASSESSMENT:\nPneumonia."]),
        ("Seen today.,ROS :,negative for fever.", ["Seen today.", "ROS:\nnegative for fever."]),
        ("HPI:,Cough for 3 days.,PLAN:,Home.", ["HPI:\nCough for 3 days.", "PLAN:\nHome."]),
    ],
)
def test_comma_glued_lines_of_exported_notes_are_split(text, expected):
    assert split_sentences(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Temperature 38.5, pulse 110.",  # a decimal
        "Temperature 38.5.Pulse 110.",  # a digit before the period
        "Prednisolone 2.5mg daily.",  # a dosage
        "Reviewed at 10.30, stable.",  # a time
        "Symptoms, e.g.,fever or cough.",  # an abbreviation before the comma
        "Seen by Dr.Smith today.",  # an abbreviation glued to a name
        "Aspirin 325 mg.,daily.",
        "Ratio 1:2, stable.",  # a colon without a comma after it
    ],
)
def test_decimals_dosages_times_and_abbreviations_are_not_split(text):
    assert split_sentences(text) == [text]


def test_a_glued_note_has_the_sentences_of_the_same_note_with_line_breaks():
    glued = "HPI:,Cough and fever.,No chest pain.,ASSESSMENT:,Pneumonia.,PLAN:,Antibiotics."
    with_breaks = (
        "HPI:\nCough and fever.\nNo chest pain.\nASSESSMENT:\nPneumonia.\nPLAN:\nAntibiotics."
    )
    assert split_sentences(glued) == split_sentences(with_breaks)
    assert len(split_sentences(glued)) == 4


def test_split_sentences_needs_no_nltk_data(tmp_path):
    empty = tmp_path / "nltk_data"
    empty.mkdir()
    script = (
        "import nltk.data\n"
        "def refuse(*args, **kwargs):\n"
        "    raise LookupError('NLTK data must not be needed')\n"
        "nltk.data.load = nltk.data.find = refuse\n"
        "from multimodal_deterioration.preparation.text import split_sentences\n"
        "print(split_sentences('Seen by Dr. Smith. No fever.'))\n"
    )
    env = {**os.environ, "NLTK_DATA": str(empty), "HOME": str(tmp_path)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['Seen by Dr. Smith.', 'No fever.']"


# Words and marks whose mix exercises every Punkt rule: abbreviations, initials, numbers,
# ellipses, sentence starters in both cases, closing brackets and quotes, line breaks.
PUNKT_PIECES = [
    "Dr.",
    "mg.",
    "e.g.",
    "i.v.",
    "No.",
    "no.",
    "A.",
    "J.",
    "2",
    "39.5.",
    "10.",
    "...",
    "?",
    "!",
    ".",
    ".)",
    '."',
    ")",
    "The",
    "the",
    "He",
    "he",
    "On",
    "on",
    "Fever",
    "fever",
    "pain",
    "resolved",
    "admitted",
    "daily",
    "Smith",
    "\n",
    "\n\n",
    "  ",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PUNKT_PIECES), min_size=1, max_size=40), max_size=6))
def test_remembered_sentence_ends_are_punkts_own(notes):
    """The remembered verdicts split exactly as Punkt recomputing each one, in any order."""
    plain = PunktSentenceTokenizer(text._SENTENCE_TOKENIZER._params)
    texts = [" ".join(pieces) for pieces in notes]
    remembered = [split_sentences(note) for note in texts]
    text._SENTENCE_TOKENIZER, remembering = plain, text._SENTENCE_TOKENIZER
    try:
        recomputed = [split_sentences(note) for note in texts]
    finally:
        text._SENTENCE_TOKENIZER = remembering
    assert remembered == recomputed


# --- keywords ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("The patient had no fever.", True),  # negated mentions still carry a keyword
        ("SEPSIS was suspected.", True),
        ("Norepinephrine was titrated.", True),
        ("She returned from Spain.", False),
        ("The patient was discharged home.", False),
        ("", False),
    ],
)
def test_has_clinical_keyword(sentence, expected):
    assert has_clinical_keyword(sentence) is expected


@pytest.mark.parametrize(
    "text, family, keyword",
    [
        ("critical care unit", "deterioration", "intensive care"),  # the longer keyword owns it
        ("life-threatening", "severity", "life-threatening"),
        ("noradrenaline", "medication", "norepinephrine"),
        ("dyspnoea", "symptom", "dyspnea"),
    ],
)
def test_a_match_is_attributed_to_its_family_and_canonical_keyword(text, family, keyword):
    match = KEYWORD_PATTERN.search(f"transferred with {text} on day 2")
    assert match is not None and match.group() == text
    assert keyword_of(match.group()) == (family, keyword)
