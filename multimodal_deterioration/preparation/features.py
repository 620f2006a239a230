"""Keyword and negation-aware clinical features, one row per note (``clinical_features.csv``).

Counting. For each keyword family (symptoms, medications, severity, deterioration) a note's
*hits* are the number of DISTINCT keywords of that family mentioned at least once without
negation. This mirrors the reference script, which counted the keywords present in a note; it
differs in three deliberate ways: matches respect word boundaries ("pain" does not match
"Spain"), a negated mention does not count, and a longer keyword owns its words, also across
families ("chest pain" counts as "chest pain", not also as "pain"; "critical care unit" as
intensive care, not also as the severity word "critical"). Each keyword's pattern also matches
simple inflections and close synonyms ("worsened", "dyspnoea", "noradrenaline").

Negation (NegEx, Chapman et al. 2001, with the termination terms of ConText, Harkema et al.
2009), scoped to one clause of one sentence:

* a pre-negation trigger ("no", "denies", "negative for", "-ve for", "free of", "low suspicion
  for", ...) negates mentions that start after it, to the end of its clause or list: up to the
  first termination, or the end of a window of ``NEGATION_WINDOW_WORDS`` words, whichever
  comes first. The window restarts after each list separator (a comma, "and", "or", "nor")
  that closes an item of at most ``NEGATION_LIST_ITEM_WORDS`` words, so "negative for tremors,
  headaches, dizziness, ..., chills, cough" is negated to its last item however long the list;
* a post-negation trigger ("was ruled out", "unlikely", ...) negates mentions that end before
  it, back to the last termination or the start of its window (restarting before each short
  list item, as above), whichever comes last. Without a copula, "ruled out", "excluded",
  "absent", "not seen", "not present" ... are post-negations where they close their clause
  ("Sepsis ruled out.", "Edema absent bilaterally."); before their object they are read as
  pre-negations ("ruled out sepsis", "absent pulses");
* a termination ends a scope: a contrast ("but", "however", "although", "except"), a relative
  pronoun ("which", "who"), a subordinating word ("because", "since", "as", "while", "after",
  "due to"), a verb that reports a new finding ("developed", "presented with"), "and" opening a
  new clause ("and was", "and required", "and she"), a semicolon or colon, and a comma that
  opens a clause (below). So in "no fever but severe cough" only "fever" is negated, and in
  "She had no fever and was intubated" the intubation is affirmed;
* a termination joined to its trigger by nothing but adverbs belongs to the negated phrase and
  ends nothing: "not yet intubated", "never developed sepsis", "not due to sepsis" and
  "sepsis, which was ruled out" all negate sepsis or the intubation;
* a pseudo-negation ("no change", "not only", "did not improve", "no response to", ...)
  contains a trigger word but negates nothing; "no change in" exempts only its own object, the
  first item of its list: in "No change in vision, diplopia or headache" vision is unchanged
  (present) and the "no" negates diplopia and headache.

Not current findings (ConText's historical and hypothetical contexts), kept out of the counts
with the scope of a pre-negation: history ("history of sepsis", "h/o", "hx of"; but
not "a 3-day history of fever", the presenting illness) and hypotheses ("return if fever",
"should she develop a rash", "in case of bleeding"). Nor do routine procedures count: in a
stretch of a sentence between semicolons that mentions anaesthesia, intubation and mechanical
ventilation are the operation's airway ("general anaesthesia with endotracheal intubation"),
and epinephrine with a local anaesthetic or at its dilution ("lidocaine with epinephrine",
"epinephrine 1:100,000") is not a vasopressor.

The comma rule. A comma ends a scope only when the word after it opens a clause: a subject
("she", "it", "there", "her", "the patient", ...) or a verb ("was", "had", "developed", ...).
List items are noun phrases, so the commas of "denies chest pain, fever, or cough" keep the
whole list negated, while "Without antibiotics, she developed septic shock" ends the scope at
the comma.

Known limits of these rules:

* a clause whose subject is a noun is not recognised after a comma: in "Without antibiotics,
  sepsis developed" and "no seizure, and the rash resolved" the second clause stays negated;
* a subordinating word inside a negated list ends it early: "denies pain while walking or
  dyspnea" negates pain only;
* coordination before a post-negation is not split: in "She had fever and sepsis was ruled out"
  fever is negated too;
* "excluded" before its object ("we excluded sepsis") negates nothing, and the subject of a
  negated verb is not negated ("Vancomycin was not started");
* a colon ends a scope even straight after the trigger, so "Denies: fever" negates nothing;
* a list item longer than ``NEGATION_LIST_ITEM_WORDS`` words is read as a clause, so the list
  after it is negated only as far as the window reaches: in "denies pain radiating to the left
  arm, nausea or diaphoresis" nausea and diaphoresis count;
* "no change in" distributes its "no" over the rest of its list also where the writer meant
  "no change in" each item ("no change in fever or cough" negates the cough);
* a history is recognised by its trigger, not by its section: the items under a "PMH:" header
  count as current, and "presented with a history of fever" (no duration) reads as history;
* a hypothetical scope runs to the end of its clause, so in "If she develops sepsis, she will
  need the ICU" the ICU still counts; "should" is hypothetical only before its subject ("should
  she develop"), not in "she should develop";
* anaesthesia exempts every intubation of its stretch of sentence, also an emergency one
  ("Under anaesthesia she was intubated for respiratory failure": only the respiratory failure
  counts).

"Resolved" is not a negation: a symptom that resolved was present during the reported course.
Uncertain mentions ("to rule out sepsis") count as mentions.

Summary counts come from the AGBonnet ``summary`` JSON (``symptoms`` and ``treatments`` lists):
the number of entries with a real name. They are NaN where the summary cannot tell (missing,
not JSON, no such key), because 0 would claim the note has no symptoms.

The keyword families and the negation phrases are data, in
``resources/clinical_vocabulary.toml`` (read by ``vocabulary``); this module builds the negation
triggers from them. Sentences and keyword matches come from ``text``.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from ..base.errors import PipelineError
from ..base.workers import in_worker_processes
from .text import KEYWORD_PATTERN, keyword_of, split_notes
from .vocabulary import KEYWORD_FAMILY_NAMES, NEGATION

# ---------------------------------------------------------------------------------------------
# Negation triggers, built from the [negation] lists of the vocabulary. Regular-expression
# fragments; a space matches any run of whitespace.
# ---------------------------------------------------------------------------------------------


def _either(phrases: Sequence[str]) -> str:
    return "(?:" + "|".join(phrases) + ")"


# Historical and hypothetical mentions are not current findings: kept out of the counts with the
# scope of a pre-negation (ConText).
PRE_NEGATIONS = (*NEGATION["pre"], *NEGATION["historical"], *NEGATION["hypothetical"])

# A post-posed trigger without a copula ("Sepsis ruled out.") closes its clause: what follows
# it is punctuation, the end, a conjunction, a preposition or an adverb. Followed by anything
# else it is read as the pre-negation it also is ("ruled out sepsis", "absent pulses"), or as
# nothing ("excluded" before its object).
_CLOSES_CLAUSE = (
    r"(?=\s*(?:[.,;:!?)]|$|" + _either((*NEGATION["after_closed_clause"], r"\w+ly")) + r"\b))"
)

POST_NEGATIONS = (
    _either(NEGATION["copulas"]) + " " + _either(NEGATION["after_copula"]),
    *NEGATION["post"],
    _either(NEGATION["without_copula"]) + _CLOSES_CLAUSE,
)

PSEUDO_NEGATIONS = (*NEGATION["pseudo"], *NEGATION["not_historical"])

# Pseudo-negations that exempt only their own object: the leading "no" negates the rest of the
# list ("No change in vision, diplopia or headache").
PSEUDO_OWN_OBJECT = NEGATION["pseudo_own_object"]

# "and" opening a new clause ends a scope as the other termination words do.
TERMINATIONS = (*NEGATION["terminations"], "and " + _either(NEGATION["and_clause_openers"]))

# A comma ends a scope only where a clause opens after it (a subject or a verb follows).
CLAUSE_PUNCTUATION = (
    *NEGATION["clause_punctuation"],
    r",(?=\s*" + _either(NEGATION["comma_clause_openers"]) + r"\b)",
)

# Words after (pre-) or before (post-negation) a trigger, or after (before) the last list
# separator in its scope, that it can reach. NegEx used five; one more lets a trigger reach the
# third item of a coordinated list of two-word terms. The window guards against clause ends the
# rules do not see ("No fever was noted on the ward and the cough resolved": cough counts).
NEGATION_WINDOW_WORDS = 6

# A negated list runs on past a separator (a comma, "and", "or", "nor") that closes an item of
# at most this many words, so a review of systems of any length stays negated: "negative for
# tremors, headaches, dizziness, ..., chills, cough". Longer stretches are read as clauses.
NEGATION_LIST_ITEM_WORDS = 4

# ---------------------------------------------------------------------------------------------
# Caps and scales of the output columns, as in the reference script.
# ---------------------------------------------------------------------------------------------

SYMPTOM_COUNT_CAP = 20
MEDICATION_COUNT_CAP = 15
SEVERITY_HITS_AT_MAXIMUM = 3  # condition_severity = min(hits / 3, 1)
DETERIORATION_HITS_AT_MAXIMUM = 5  # deterioration_intensity = min(hits / 5, 1)
SENTENCE_COUNT_CAP = 100

FEATURE_COLUMNS = (
    "note_id",
    "symptom_count",
    "medication_count",
    "condition_severity",
    "has_deterioration",
    "deterioration_intensity",
    "sentence_count",
    "summary_symptom_count",
    "summary_treatment_count",
)

# ---------------------------------------------------------------------------------------------
# Compiled negation patterns. Written in lower case and matched against lower-cased text, which
# is several times faster than re.IGNORECASE on long alternations.
# ---------------------------------------------------------------------------------------------


def _phrase_alternatives(phrases: Sequence[str]) -> str:
    """Longest first, so "no evidence of" wins over "no"; a space matches any whitespace."""
    ordered = sorted(phrases, key=len, reverse=True)
    return "|".join("(?:" + phrase.replace(" ", r"\s+") + ")" for phrase in ordered)


# At one position the first group that matches wins: a pseudo-negation beats the trigger it
# contains ("no change" over "no"), and a post-negation beats a shorter pre-negation inside it
# ("was ruled out" over "ruled out"). finditer's leftmost rule does the rest. The word
# boundaries sit outside the alternation so that mid-word positions fail at once.
_TRIGGERS = re.compile(
    f"(?P<punct>{_phrase_alternatives(CLAUSE_PUNCTUATION)})"
    r"|\b(?:"
    f"(?P<own_object>{_phrase_alternatives(PSEUDO_OWN_OBJECT)})"
    f"|(?P<pseudo>{_phrase_alternatives(PSEUDO_NEGATIONS)})"
    f"|(?P<post>{_phrase_alternatives(POST_NEGATIONS)})"
    f"|(?P<pre>{_phrase_alternatives(PRE_NEGATIONS)})"
    f"|(?P<term>{_phrase_alternatives(TERMINATIONS)})"
    r")\b"
)

_WORD = re.compile(r"\w+")

# What separates the items of a list.
_LIST_SEPARATOR = re.compile(r",|\b(?:and|or|nor)\b")

# Routine procedures (the [negation] lists anaesthesia and local_anaesthetic): in a stretch of a
# sentence between semicolons that mentions anaesthesia, ANAESTHESIA_KEYWORDS do not count; nor
# does a keyword inside a local-anaesthetic phrase ("lidocaine with epinephrine").
_ANAESTHESIA = re.compile(r"\b(?:" + _phrase_alternatives(NEGATION["anaesthesia"]) + r")\b")
ANAESTHESIA_KEYWORDS = frozenset(NEGATION["anaesthesia_keywords"])
_LOCAL_ANAESTHETIC = re.compile(
    r"\b(?:" + _phrase_alternatives(NEGATION["local_anaesthetic"]) + r")\b"
)

# What may stand between a trigger and a termination word that belongs to the negated phrase
# ("not yet", "never developed", "not due to", "had not previously developed"): whitespace and
# adverbs.
_ADVERBS_ONLY = re.compile(r"(?:\s+\w+ly)*\s*")


# ---------------------------------------------------------------------------------------------
# Negation scopes and keyword hits
# ---------------------------------------------------------------------------------------------


def _negated_spans(sentence: str) -> list[tuple[int, int, str]]:
    """Character scopes negated in ``sentence`` as ``(start, end, direction)``.

    ``direction`` is "pre" (mentions starting in the span are negated) or "post" (mentions
    ending in the span are negated). A pre-negation's scope runs to the first termination after
    it or the end of its window, whichever comes first; the window restarts after each list
    separator that closes a short item. A post-negation's scope mirrors it, backwards. A
    termination word joined to the trigger by nothing but adverbs is part of the negated phrase
    and ends nothing ("not yet intubated", "never developed sepsis", "sepsis, which was ruled
    out"). A pseudo-negation that exempts its own object starts a pre-negation scope after the
    separator that ends that object ("No change in vision, diplopia or headache").
    """
    pre, post, terms = [], [], []
    for match in _TRIGGERS.finditer(sentence):
        kind = match.lastgroup
        if kind in ("pre", "own_object"):
            pre.append(match)
        elif kind == "post":
            post.append(match)
        elif kind in ("term", "punct"):
            terms.append(match)
    if not pre and not post:
        return []

    words = [(m.start(), m.end()) for m in _WORD.finditer(sentence)]
    word_starts = [start for start, _ in words]
    word_ends = [end for _, end in words]
    term_starts = [t.start() for t in terms]
    term_ends = [t.end() for t in terms]
    separators = [(m.start(), m.end()) for m in _LIST_SEPARATOR.finditer(sentence)]
    separator_starts = [start for start, _ in separators]
    separator_ends = [end for _, end in separators]

    def words_between(start: int, end: int) -> int:
        return bisect_right(word_ends, end) - bisect_left(word_starts, start)

    def first_termination_after(position: int) -> int:
        """Where the first termination after ``position`` that is not joined to it starts."""
        reached = position
        for term in terms[bisect_left(term_starts, position) :]:
            if not joined(term, reached, term.start()):
                return term.start()
            reached = term.end()
        return len(sentence)

    def joined(term: re.Match[str], start: int, end: int) -> bool:
        return (
            term.lastgroup == "term" and _ADVERBS_ONLY.fullmatch(sentence, start, end) is not None
        )

    spans = []
    for trigger in pre:
        position = trigger.end()
        limit = first_termination_after(position)
        if trigger.lastgroup == "own_object":  # the scope starts after its own object
            k = bisect_left(separator_starts, position)
            if k == len(separators) or separator_starts[k] >= limit:
                continue
            position = separator_ends[k]
        reach = position
        while True:
            first = bisect_left(word_starts, reach)
            last = first + NEGATION_WINDOW_WORDS - 1
            end = min(word_ends[last] if last < len(words) else len(sentence), limit)
            k = bisect_left(separator_starts, reach)
            if k == len(separators) or separator_starts[k] >= end:
                break
            if words_between(reach, separator_starts[k]) > NEGATION_LIST_ITEM_WORDS:
                break
            reach = separator_ends[k]
        spans.append((position, end, "pre"))
    for trigger in post:
        reached = trigger.start()
        limit = 0
        for term in reversed(terms[: bisect_right(term_ends, trigger.start())]):
            if not joined(term, term.end(), reached):
                limit = term.end()
                break
            reached = term.start()
        reach = trigger.start()
        while True:
            before = bisect_right(word_ends, reach)
            start = word_starts[max(0, before - NEGATION_WINDOW_WORDS)] if before else reach
            start = max(start, limit)
            k = bisect_right(separator_ends, reach) - 1
            if k < 0 or separator_starts[k] < start:
                break
            if words_between(separator_ends[k], reach) > NEGATION_LIST_ITEM_WORDS:
                break
            reach = separator_starts[k]
        spans.append((start, trigger.start(), "post"))
    return spans


def _is_negated(start: int, end: int, spans: list[tuple[int, int, str]]) -> bool:
    for span_start, span_end, direction in spans:
        if direction == "pre" and span_start <= start < span_end:
            return True
        if direction == "post" and span_start < end <= span_end:
            return True
    return False


def _procedural_spans(sentence: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Where ``sentence`` describes a routine procedure: the stretches between semicolons that
    mention anaesthesia, and the local-anaesthetic phrases."""
    anaesthesia = []
    if _ANAESTHESIA.search(sentence):
        start = 0
        for part in sentence.split(";"):
            if _ANAESTHESIA.search(part):
                anaesthesia.append((start, start + len(part)))
            start += len(part) + 1
    local = [m.span() for m in _LOCAL_ANAESTHETIC.finditer(sentence)]
    return anaesthesia, local


def _is_procedural(
    name: str, start: int, end: int, spans: tuple[list[tuple[int, int]], list[tuple[int, int]]]
) -> bool:
    anaesthesia, local = spans
    if name in ANAESTHESIA_KEYWORDS and any(a <= start < b for a, b in anaesthesia):
        return True
    return any(a <= start and end <= b for a, b in local)


def _affirmed_keywords(sentences: Sequence[str]) -> dict[str, set[str]]:
    """Per family, the keywords mentioned at least once without negation, as current findings
    (not historical or hypothetical) and not as part of a routine procedure."""
    found: dict[str, set[str]] = {family: set() for family in KEYWORD_FAMILY_NAMES}
    for sentence in sentences:
        lowered = sentence.lower()
        spans = procedural = None
        for match in KEYWORD_PATTERN.finditer(lowered):
            family, name = keyword_of(match.group())
            if name in found[family]:
                continue
            if spans is None:
                spans = _negated_spans(lowered)
                procedural = _procedural_spans(lowered)
            if _is_negated(match.start(), match.end(), spans):
                continue
            if not _is_procedural(name, match.start(), match.end(), procedural):
                found[family].add(name)
    return found


# ---------------------------------------------------------------------------------------------
# AGBonnet summary JSON
# ---------------------------------------------------------------------------------------------

# Section key -> fields that hold an entry's name, all compared in lower case. The first of
# each is the AGBonnet template's; the others tolerate hand-made files in the same spirit.
SUMMARY_SECTIONS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = MappingProxyType(
    {
        "symptoms": (("symptoms", "symptom"), ("name of symptom", "name", "symptom")),
        "treatments": (("treatments", "treatment"), ("name", "name of treatment", "treatment")),
    }
)

# Values the AGBonnet extraction writes where it found nothing.
_ABSENT_VALUES = frozenset({"", "none", "null", "nan", "n/a", "na", "unknown"})


def _is_real_value(value: Any) -> bool:
    if value is None or isinstance(value, (Mapping, list)):
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return str(value).strip().lower() not in _ABSENT_VALUES


def _entry_has_name(entry: Any, name_fields: tuple[str, ...]) -> bool:
    if isinstance(entry, Mapping):
        fields = {str(key).strip().lower(): value for key, value in entry.items()}
        for field in name_fields:
            if field in fields:
                return _is_real_value(fields[field])
        return False
    return isinstance(entry, str) and _is_real_value(entry)


def _count_named_entries(section: Any, name_fields: tuple[str, ...]) -> float:
    """Entries of a summary section with a real name; NaN if the section has no usable shape."""
    if section is None or (isinstance(section, str) and not _is_real_value(section)):
        return 0.0  # the summary says there are none
    if isinstance(section, (Mapping, str)):
        return float(_entry_has_name(section, name_fields))
    if isinstance(section, list):
        return float(sum(_entry_has_name(entry, name_fields) for entry in section))
    return math.nan


def _parse_summary(summary: Any) -> Mapping[str, Any] | None:
    if isinstance(summary, Mapping):
        parsed: Any = summary
    elif isinstance(summary, str):
        try:
            parsed = json.loads(summary)
        except ValueError:
            return None
    else:
        return None
    if not isinstance(parsed, Mapping):
        return None
    return {str(key).strip().lower(): value for key, value in parsed.items()}


def _summary_counts(summary: Any) -> tuple[float, float]:
    """(symptom count, treatment count) from one summary; NaN where it cannot tell."""
    parsed = _parse_summary(summary)
    counts = []
    for section_keys, name_fields in SUMMARY_SECTIONS.values():
        key = next((k for k in section_keys if parsed is not None and k in parsed), None)
        counts.append(math.nan if key is None else _count_named_entries(parsed[key], name_fields))
    return counts[0], counts[1]


# ---------------------------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------------------------


def _keyword_counts(sentences_per_note: list[list[str]]) -> list[tuple[int, ...]]:
    """Per note: affirmed symptom, medication, severity and deterioration keywords; sentences."""
    counts = []
    for sentences in sentences_per_note:
        found = _affirmed_keywords(sentences)
        counts.append(
            (
                len(found["symptom"]),
                len(found["medication"]),
                len(found["severity"]),
                len(found["deterioration"]),
                len(sentences),
            )
        )
    return counts


def extract_features(
    texts: Sequence[str],
    summaries: Sequence[str | None] | None = None,
    note_ids: Sequence | None = None,
    progress: bool = False,
    sentences: Sequence[list[str]] | None = None,
    workers: int = 1,
) -> pd.DataFrame:
    """One row of clinical features per text, in input order; columns as ``FEATURE_COLUMNS``.

    ``summaries`` are AGBonnet ``summary`` JSON strings aligned with ``texts`` (None: the
    summary columns are all NaN). ``note_ids`` default to 0..n-1. ``sentences`` are the notes
    already split by ``split_notes`` (else they are split here). ``workers`` processes share the
    work; the result does not depend on how many.
    """
    texts = list(texts)
    n = len(texts)
    if summaries is not None:
        summaries = list(summaries)
        if len(summaries) != n:
            raise PipelineError(
                f"got {len(summaries)} summaries for {n} texts; pass one summary per note"
            )
    if note_ids is not None:
        note_ids = list(note_ids)
        if len(note_ids) != n:
            raise PipelineError(f"got {len(note_ids)} note ids for {n} texts; pass one id per note")
    if sentences is None:
        sentences = split_notes(texts, workers)
    elif len(sentences) != n:
        raise PipelineError(
            f"got sentences of {len(sentences)} notes for {n} texts; split the same notes with "
            "text.split_notes"
        )

    with tqdm(total=n, desc="Clinical features", unit="note", disable=not progress) as bar:
        counts = in_worker_processes(_keyword_counts, list(sentences), workers, bar.update)
    counts = np.array(counts, dtype=np.int64).reshape(n, 5)
    symptoms, medications, severity_hits, deterioration_hits, sentence_counts = counts.T
    summary_symptoms = np.full(n, np.nan)
    summary_treatments = np.full(n, np.nan)
    if summaries is not None:
        for i, summary in enumerate(summaries):
            summary_symptoms[i], summary_treatments[i] = _summary_counts(summary)

    return pd.DataFrame(
        {
            "note_id": note_ids if note_ids is not None else np.arange(n),
            "symptom_count": np.minimum(symptoms, SYMPTOM_COUNT_CAP),
            "medication_count": np.minimum(medications, MEDICATION_COUNT_CAP),
            "condition_severity": np.minimum(severity_hits / SEVERITY_HITS_AT_MAXIMUM, 1.0),
            "has_deterioration": (deterioration_hits > 0).astype(np.int64),
            "deterioration_intensity": np.minimum(
                deterioration_hits / DETERIORATION_HITS_AT_MAXIMUM, 1.0
            ),
            "sentence_count": np.minimum(sentence_counts, SENTENCE_COUNT_CAP),
            "summary_symptom_count": summary_symptoms,
            "summary_treatment_count": summary_treatments,
        },
        columns=list(FEATURE_COLUMNS),
    )
