"""Keyword and negation-aware clinical features, one row per note (``clinical_features.csv``).

Counting. For each keyword family (symptoms, medications, severity, deterioration) a note's
*hits* are the number of DISTINCT keywords of that family mentioned at least once without
negation. This mirrors the reference script, which counted the keywords present in a note; it
differs in three deliberate ways: matches respect word boundaries ("pain" does not match
"Spain"), a negated mention does not count, and a longer keyword owns its words, also across
families ("chest pain" counts as "chest pain", not also as "pain"; "critical care unit" as
intensive care, not also as the severity word "critical"). Each keyword's pattern also matches
simple inflections and close synonyms ("worsened", "dyspnoea", "noradrenaline").

Which mentions count as current findings is decided by ``negation``: a mention inside a
negation scope (NegEx, with the terminations of ConText), a historical or hypothetical mention,
and a routine procedure (intubation under anaesthesia, epinephrine with a local anaesthetic) do
not count. Its module docstring states the rules and their known limits.

Summary counts come from the AGBonnet ``summary`` JSON (``symptoms`` and ``treatments`` lists):
the number of entries with a real name. They are NaN where the summary cannot tell (missing,
not JSON, no such key), because 0 would claim the note has no symptoms.

The keyword families are data, in ``resources/clinical_vocabulary.toml`` (read by
``vocabulary``). Sentences and keyword matches come from ``text``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ..base.errors import PipelineError
from ..base.progress import progress_bar
from ..base.workers import in_worker_processes
from .negation import is_negated, is_procedural, negated_spans, procedural_spans
from .text import KEYWORD_PATTERN, keyword_of, split_notes
from .vocabulary import KEYWORD_FAMILY_NAMES

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
# Keyword hits
# ---------------------------------------------------------------------------------------------


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
                spans = negated_spans(lowered)
                procedural = procedural_spans(lowered)
            if is_negated(match.start(), match.end(), spans):
                continue
            if not is_procedural(name, match.start(), match.end(), procedural):
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


def _one_per_text(values: Sequence | None, n: int, what: str, fix: str) -> list | None:
    """``values`` as a list, checked to hold one entry per text; None stays None."""
    if values is None:
        return None
    values = list(values)
    if len(values) != n:
        raise PipelineError(f"got {len(values)} {what} for {n} texts; {fix}")
    return values


def _summary_columns(summaries: list[str | None] | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The summary symptom and treatment counts of ``n`` notes; all NaN without summaries."""
    summary_symptoms = np.full(n, np.nan)
    summary_treatments = np.full(n, np.nan)
    if summaries is not None:
        for i, summary in enumerate(summaries):
            summary_symptoms[i], summary_treatments[i] = _summary_counts(summary)
    return summary_symptoms, summary_treatments


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
    summaries = _one_per_text(summaries, n, "summaries", "pass one summary per note")
    note_ids = _one_per_text(note_ids, n, "note ids", "pass one id per note")
    if sentences is None:
        sentences = split_notes(texts, workers)
    elif len(sentences) != n:
        raise PipelineError(
            f"got sentences of {len(sentences)} notes for {n} texts; split the same notes with "
            "text.split_notes"
        )

    with progress_bar(total=n, enabled=progress, desc="Clinical features", unit="note") as bar:
        counts = in_worker_processes(_keyword_counts, list(sentences), workers, bar.update)
    counts = np.array(counts, dtype=np.int64).reshape(n, 5)
    symptoms, medications, severity_hits, deterioration_hits, sentence_counts = counts.T
    summary_symptoms, summary_treatments = _summary_columns(summaries, n)

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
