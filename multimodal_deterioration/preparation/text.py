"""Text utilities shared by the features and the embeddings: sentences and clinical keywords.

Sentences come from NLTK's Punkt, set up with the abbreviations and sentence openers of case
reports instead of trained data, so no NLTK data is read or downloaded. A blank line always ends
a sentence. Notes exported from record systems glue their lines with commas ("No fever.,Cough
since Monday.", "...clear.,ASSESSMENT:,Stable."); such joins are read as the line breaks they
stand for before Punkt sees the text (``unglue_exported_lines``).

Keywords are those of the clinical vocabulary (``vocabulary``), matched in one pass of one
regular expression over lower-cased text, which is several times faster than re.IGNORECASE on a
long alternation. A match respects word boundaries ("pain" does not match "Spain"), and where two
keywords could start at the same word the longer one owns it ("critical care unit" is intensive
care, not also the severity word "critical").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd
from nltk.tokenize.punkt import (  # the flags are Punkt's own, stable since NLTK 2
    _ORTHO_BEG_UC,
    _ORTHO_MID_LC,
    PunktParameters,
    PunktSentenceTokenizer,
)

from ..base.workers import in_worker_processes
from .vocabulary import KEYWORD_FAMILIES

# ---------------------------------------------------------------------------------------------
# Sentence splitting
# ---------------------------------------------------------------------------------------------

# Words that end in a period inside a sentence in case reports: titles, Latin, units and dosing
# abbreviations. Punkt stores them lower-case, without the final period.
# "no" (as in "No. 3") is deliberately absent: numbered items are rare in case reports, but a
# sentence ending in "no." ("asked about chest pain, she said no.") is not, and joining it to
# the next sentence would let that "no" negate the next sentence's first words.
SENTENCE_ABBREVIATIONS = frozenset(
    {
        # titles and names
        "dr",
        "drs",
        "mr",
        "mrs",
        "ms",
        "prof",
        "st",
        "jr",
        "sr",
        "al",
        # Latin and general English
        "e.g",
        "i.e",
        "etc",
        "vs",
        "cf",
        "approx",
        "ca",
        "fig",
        "figs",
        "ref",
        "vol",
        "pt",
        "pts",
        # units and time
        "mg",
        "mcg",
        "kg",
        "ml",
        "dl",
        "mm",
        "cm",
        "mmol",
        "meq",
        "iu",
        "hr",
        "hrs",
        "min",
        "mins",
        "sec",
        "wk",
        "wks",
        "mo",
        "mos",
        "yr",
        "yrs",
        "temp",
        "resp",
        "max",
        # dosing and routes
        "b.i.d",
        "t.i.d",
        "q.i.d",
        "q.d",
        "p.r.n",
        "p.o",
        "i.v",
        "i.m",
        "s.c",
        "a.m",
        "p.m",
    }
)

# After an abbreviation or a single letter ("2 g."), Punkt starts a new sentence only when it
# has evidence that the next word opens sentences ("... 40 mg. The patient ..."). Without
# trained NLTK data we supply that evidence for the openings most common in case reports.
# "a" is left out because "Dr. A. Smith" would split.
SENTENCE_STARTERS = frozenset(
    {
        "the",
        "an",
        "he",
        "she",
        "his",
        "her",
        "they",
        "their",
        "we",
        "it",
        "this",
        "these",
        "there",
        "on",
        "in",
        "at",
        "after",
        "during",
        "following",
        "however",
        "no",
        "one",
        "two",
        "three",
        "physical",
        "laboratory",
        "blood",
        "subsequently",
        "thereafter",
    }
)

# A blank line is a paragraph break in every note source we read; Punkt itself ignores layout.
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")

# Line joins of exported notes (seen in exported notes): a period followed by a comma
# ("fever.,Cough", "HR 96., Lungs", "to ICU.,She"), a period after a lower-case letter glued to
# a capital ("fever.Cough"), and a section header's colon followed by a comma ("ASSESSMENT:,",
# "ROS :,"). Decimals ("38.5"), dosages ("2.5mg") and times ("10.30") have a digit after the
# period and never match.
_GLUED_PERIOD = re.compile(r"(?<=[\w)%])\.,[ \t]*|(?<=[a-z])\.(?=[A-Z])")
_GLUED_HEADER = re.compile(r"[ \t]*:,[ \t]*")
# The word a glued period ends, to leave abbreviations alone ("e.g.,", "Dr.Smith").
_WORD_BEFORE_PERIOD = re.compile(r"[\w.]+$")


# Candidate sentence ends whose verdict each process remembers (a few MB at most).
SENTENCE_BREAK_MEMORY = 2**15


class _RememberingPunkt(PunktSentenceTokenizer):
    """Punkt that remembers its verdict on each candidate sentence end.

    Punkt decides each candidate from its context alone (the token that ends in the punctuation
    and the one after it, e.g. "mg. The"), with parameters fixed at construction, so a verdict
    remembered is the verdict recomputed: the sentences are Punkt's own. Notes repeat contexts
    ("admitted. He", "daily. The"), and computing a verdict is most of Punkt's time: the demo's
    notes split in 0.3 of the time, prose with few repeated contexts in 0.85 (the vim manual's
    paragraphs, 48,000 candidate ends of which 77% distinct).
    """

    def __init__(self, params: PunktParameters):
        super().__init__(params)
        self._verdicts = functools.lru_cache(maxsize=SENTENCE_BREAK_MEMORY)(
            super().text_contains_sentbreak
        )

    def text_contains_sentbreak(self, text: str) -> bool:
        return self._verdicts(text)


def _build_sentence_tokenizer() -> PunktSentenceTokenizer:
    params = PunktParameters()
    params.abbrev_types = set(SENTENCE_ABBREVIATIONS)
    for word in SENTENCE_STARTERS:
        # As if training had seen the word capitalised only at sentence starts and in lower
        # case inside sentences: Punkt's orthographic evidence that it starts a sentence.
        params.add_ortho_context(word, _ORTHO_BEG_UC | _ORTHO_MID_LC)
    # Passing parameters instead of training text means no NLTK data is read or downloaded.
    return _RememberingPunkt(params)


_SENTENCE_TOKENIZER = _build_sentence_tokenizer()


def _unglue_period(match: re.Match[str]) -> str:
    word = _WORD_BEFORE_PERIOD.search(match.string, 0, match.start())
    if word is not None and word.group().lower() in SENTENCE_ABBREVIATIONS:
        return match.group()
    return ".\n"


def unglue_exported_lines(text: str) -> str:
    """``text`` with the comma-glued line joins of exported notes turned back into line breaks.

    A period glued to a comma, or to a capital after a lower-case letter, ends its line ("No
    fever.,Cough" reads "No fever.\nCough"), unless it ends an abbreviation ("e.g.,", "Dr.Smith");
    a header's ":," is the line break after the header ("ASSESSMENT:,Stable" reads
    "ASSESSMENT:\nStable"). Punkt then splits the lines as it splits any note with line breaks,
    so a glued note has the sentences of the same note written with line breaks: the header
    opens its section's first sentence rather than standing alone.
    """
    if "." not in text and ":," not in text:
        return text
    return _GLUED_HEADER.sub(":\n", _GLUED_PERIOD.sub(_unglue_period, text))


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into stripped, non-empty sentences (Punkt, no NLTK data needed).

    A blank line always ends a sentence; single line breaks are read as spaces. Comma-glued
    lines of exported notes are split first (``unglue_exported_lines``).
    """
    sentences = []
    for paragraph in _PARAGRAPH_BREAK.split(unglue_exported_lines(text)):
        if paragraph.strip():
            sentences.extend(s.strip() for s in _SENTENCE_TOKENIZER.tokenize(paragraph))
    return [s for s in sentences if s]


def _as_text(value: Any) -> str:
    """Missing notes (None, NaN) read as empty text, so they get zero counts."""
    if isinstance(value, str):
        return value
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    return str(value)


def _split_each(texts: list[str]) -> list[list[str]]:
    return [split_sentences(_as_text(text)) for text in texts]


def split_notes(texts: Sequence[str], workers: int = 1) -> list[list[str]]:
    """Each note's sentences (``split_sentences``), split once and shared by the feature
    extraction and the key-sentence selection; over ``workers`` processes."""
    return in_worker_processes(_split_each, list(texts), workers)


# ---------------------------------------------------------------------------------------------
# Clinical keywords
# ---------------------------------------------------------------------------------------------


def _keyword_body(pattern: str) -> str:
    """A space in a keyword pattern matches whitespace or a hyphen ("life-threatening")."""
    return pattern.replace(" ", r"[\s-]+")


def _keyword_entries() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    """``(family, keyword, pattern)`` over every family, longer patterns first.

    The order decides which keyword owns a stretch of text where two could start at the same
    word: the longer one ("critical care unit" is intensive care, not also "critical").
    """
    entries = sorted(
        (
            (family, name, pattern)
            for family, keywords in KEYWORD_FAMILIES.items()
            for name, pattern in keywords.items()
        ),
        key=lambda entry: -len(entry[2]),
    )
    return tuple(
        (family, name, re.compile(_keyword_body(pattern))) for family, name, pattern in entries
    )


_KEYWORD_ENTRIES = _keyword_entries()

# One pass over every family, with no capture groups: named groups for ~100 alternatives make
# Python's re about ten times slower. Which keyword matched is looked up afterwards (keyword_of).
# Written in lower case: match it against lower-cased text.
KEYWORD_PATTERN = re.compile(
    r"\b(?:" + "|".join(entry[2].pattern for entry in _KEYWORD_ENTRIES) + r")\b"
)


@functools.lru_cache(maxsize=4096)
def keyword_of(matched: str) -> tuple[str, str]:
    """``(family, keyword)`` for text that ``KEYWORD_PATTERN`` matched.

    The alternation takes the first alternative that matches, and an earlier alternative that
    matched this whole text would have been taken, so the first full match is the one.
    """
    for family, name, pattern in _KEYWORD_ENTRIES:
        if pattern.fullmatch(matched):
            return family, name
    raise AssertionError(f"no keyword pattern matches {matched!r}")


def has_clinical_keyword(sentence: str) -> bool:
    """Whether ``sentence`` mentions any clinical keyword, negated or not."""
    return KEYWORD_PATTERN.search(sentence.lower()) is not None
