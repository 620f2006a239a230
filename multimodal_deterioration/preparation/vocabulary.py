"""The clinical vocabulary: keyword families and the phrases of the negation rules.

The word lists are data, kept in ``resources/clinical_vocabulary.toml`` (as mimic3-benchmarks
keeps its ``resources/*.yaml``) and read once, at import, by this module. Each list there says
where it comes from. ``text`` builds the keyword regular expression from them and ``features``
the negation triggers.

Every entry is a lower-case regular-expression fragment with non-capturing groups only.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from ..base.errors import PipelineError

VOCABULARY_PATH = Path(__file__).parent / "resources" / "clinical_vocabulary.toml"

# The families whose distinct affirmed keywords become the four keyword columns of the features.
KEYWORD_FAMILY_NAMES = ("symptom", "medication", "severity", "deterioration")

# The lists of the [negation] table; features.py documents the rule each one serves.
NEGATION_LIST_NAMES = (
    "pre",
    "copulas",
    "after_copula",
    "post",
    "without_copula",
    "after_closed_clause",
    "pseudo",
    "pseudo_own_object",
    "terminations",
    "and_clause_openers",
    "clause_punctuation",
    "comma_clause_openers",
    "historical",
    "not_historical",
    "hypothetical",
    "anaesthesia",
    "anaesthesia_keywords",
    "local_anaesthetic",
)

# Negation lists that name keywords of [keywords] rather than hold phrases.
KEYWORD_NAME_LISTS = ("anaesthesia_keywords",)


@dataclass(frozen=True)
class ClinicalVocabulary:
    """The contents of a vocabulary file, checked.

    ``keywords``: family -> canonical keyword -> pattern, in file order (``KEYWORD_FAMILY_NAMES``
    are the families). ``negation``: list name -> phrases (``NEGATION_LIST_NAMES``).
    """

    keywords: Mapping[str, Mapping[str, str]]
    negation: Mapping[str, tuple[str, ...]]


def load_vocabulary(path: Path = VOCABULARY_PATH) -> ClinicalVocabulary:
    """Read and check a clinical vocabulary file.

    Args:
        path: a TOML file laid out as ``resources/clinical_vocabulary.toml``.

    Returns:
        The keyword families and negation lists, read-only.

    Raises:
        PipelineError: the file is missing, is not TOML, lacks a table or list, has one it does
            not know, holds an entry that is not a regular expression without capture groups,
            or names in ``KEYWORD_NAME_LISTS`` a keyword that no family holds.
    """
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except FileNotFoundError as error:
        raise PipelineError(
            f"the clinical vocabulary {path} is missing; reinstall multimodal_deterioration "
            "with its resources folder"
        ) from error
    except tomllib.TOMLDecodeError as error:
        raise PipelineError(f"the clinical vocabulary {path} is not valid TOML: {error}") from error
    _expect_names(path, "the file", data, ("keywords", "negation"))
    _expect_names(path, "[keywords]", data["keywords"], KEYWORD_FAMILY_NAMES)
    _expect_names(path, "[negation]", data["negation"], NEGATION_LIST_NAMES)
    keywords = {}
    for family in KEYWORD_FAMILY_NAMES:
        table = data["keywords"][family]
        if not isinstance(table, dict) or not table:
            raise PipelineError(
                f"{path}: [keywords.{family}] must be a table of keyword = 'pattern' entries"
            )
        for name, pattern in table.items():
            _check_pattern(path, f"keywords.{family}.{name}", pattern)
        keywords[family] = MappingProxyType(dict(table))
    negation = {}
    for name in NEGATION_LIST_NAMES:
        phrases = data["negation"][name]
        if not isinstance(phrases, list) or not phrases:
            raise PipelineError(f"{path}: negation.{name} must be a non-empty list of strings")
        for phrase in phrases:
            _check_pattern(path, f"negation.{name}", phrase)
        negation[name] = tuple(phrases)
    known = {keyword for table in keywords.values() for keyword in table}
    for name in KEYWORD_NAME_LISTS:
        unknown = [keyword for keyword in negation[name] if keyword not in known]
        if unknown:
            raise PipelineError(
                f"{path}: negation.{name} names {', '.join(unknown)}, not a keyword of [keywords]"
            )
    return ClinicalVocabulary(MappingProxyType(keywords), MappingProxyType(negation))


def _expect_names(path: Path, where: str, table, names: tuple[str, ...]) -> None:
    if not isinstance(table, dict):
        raise PipelineError(f"{path}: {where} must be a table holding {', '.join(names)}")
    missing = [name for name in names if name not in table]
    unknown = [name for name in table if name not in names]
    if missing or unknown:
        problems = [f"missing {', '.join(missing)}"] if missing else []
        problems += [f"unknown {', '.join(unknown)}"] if unknown else []
        raise PipelineError(
            f"{path}: {where} must hold exactly {', '.join(names)} ({'; '.join(problems)})"
        )


def _check_pattern(path: Path, where: str, pattern) -> None:
    if not isinstance(pattern, str) or not pattern.strip():
        raise PipelineError(f"{path}: {where} holds {pattern!r}, not a non-empty string")
    try:
        groups = re.compile(pattern).groups
    except re.error as error:
        raise PipelineError(
            f"{path}: {where} holds {pattern!r}, not a regular expression ({error})"
        ) from error
    # The matchers tell keywords and trigger kinds apart by their own groups.
    if groups:
        raise PipelineError(
            f"{path}: {where} holds {pattern!r} with a capture group; write (?:...) instead"
        )


_VOCABULARY = load_vocabulary()

SYMPTOM_KEYWORDS = _VOCABULARY.keywords["symptom"]
MEDICATION_KEYWORDS = _VOCABULARY.keywords["medication"]
SEVERITY_KEYWORDS = _VOCABULARY.keywords["severity"]
DETERIORATION_KEYWORDS = _VOCABULARY.keywords["deterioration"]
KEYWORD_FAMILIES = _VOCABULARY.keywords

CLINICAL_KEYWORDS: frozenset[str] = frozenset(
    name for keywords in KEYWORD_FAMILIES.values() for name in keywords
)

NEGATION = _VOCABULARY.negation
