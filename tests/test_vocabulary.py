"""Specification of the clinical vocabulary file and its loader (vocabulary.py)."""

from __future__ import annotations

import tomllib

import pytest

from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.preparation.vocabulary import (
    CLINICAL_KEYWORDS,
    DETERIORATION_KEYWORDS,
    KEYWORD_FAMILY_NAMES,
    MEDICATION_KEYWORDS,
    NEGATION_LIST_NAMES,
    SEVERITY_KEYWORDS,
    SYMPTOM_KEYWORDS,
    VOCABULARY_PATH,
    load_vocabulary,
)


def test_clinical_keywords_is_the_union_of_the_families():
    union = set(SYMPTOM_KEYWORDS) | set(MEDICATION_KEYWORDS) | set(SEVERITY_KEYWORDS)
    union |= set(DETERIORATION_KEYWORDS)
    assert isinstance(CLINICAL_KEYWORDS, frozenset)
    assert CLINICAL_KEYWORDS == union
    assert {"fever", "aspirin", "severe", "sepsis"} <= CLINICAL_KEYWORDS


def test_the_packaged_vocabulary_holds_every_family_and_negation_list_read_only():
    vocabulary = load_vocabulary()
    assert tuple(vocabulary.keywords) == KEYWORD_FAMILY_NAMES
    assert tuple(vocabulary.negation) == NEGATION_LIST_NAMES
    assert all(isinstance(phrases, tuple) for phrases in vocabulary.negation.values())
    with pytest.raises(TypeError):
        vocabulary.keywords["symptom"]["new"] = "new"  # type: ignore[index]


def write_vocabulary(path, edit) -> None:
    """The packaged vocabulary with ``edit`` applied to its parsed tables, written as TOML."""
    data = tomllib.loads(VOCABULARY_PATH.read_text(encoding="utf-8"))
    edit(data)
    lines = []
    for family, table in data.get("keywords", {}).items():
        lines.append(f"[keywords.{family}]")
        lines += [f"{_toml_string(name)} = {_toml_value(value)}" for name, value in table.items()]
    if "negation" in data:
        lines.append("[negation]")
        lines += [f"{name} = {_toml_value(value)}" for name, value in data["negation"].items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _toml_string(value: str) -> str:
    return "'" + value + "'"


def _toml_value(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return _toml_string(value) if isinstance(value, str) else str(value)


def test_a_copy_written_back_unchanged_loads_the_same(tmp_path):
    path = tmp_path / "vocabulary.toml"
    write_vocabulary(path, lambda data: None)
    assert load_vocabulary(path) == load_vocabulary()


def test_a_missing_file_is_a_pipeline_error(tmp_path):
    with pytest.raises(PipelineError, match="clinical vocabulary .* is missing"):
        load_vocabulary(tmp_path / "absent.toml")


def test_a_file_that_is_not_toml_is_a_pipeline_error(tmp_path):
    path = tmp_path / "vocabulary.toml"
    path.write_text("[keywords.symptom\nfever = 'fever'\n", encoding="utf-8")
    with pytest.raises(PipelineError, match="not valid TOML"):
        load_vocabulary(path)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda data: data["keywords"].pop("severity"), "missing severity"),
        (lambda data: data["keywords"].update(vitals={"fever": "fever"}), "unknown vitals"),
        (lambda data: data["negation"].pop("pseudo"), "missing pseudo"),
        (lambda data: data.pop("negation"), "missing negation"),
        (lambda data: data["negation"].update(pre=[]), "negation.pre must be a non-empty list"),
        (lambda data: data["negation"].update(pre=[3]), "not a non-empty string"),
        (lambda data: data["keywords"]["symptom"].update(fever="fevers?("), "not a regular expr"),
        (lambda data: data["keywords"]["symptom"].update(fever="(fever)"), "capture group"),
    ],
)
def test_a_malformed_vocabulary_is_a_pipeline_error_naming_the_problem(tmp_path, edit, message):
    path = tmp_path / "vocabulary.toml"
    write_vocabulary(path, edit)
    with pytest.raises(PipelineError, match=message):
        load_vocabulary(path)


def test_anaesthesia_keywords_must_name_keywords_of_the_families(tmp_path):
    path = tmp_path / "vocabulary.toml"
    write_vocabulary(path, lambda data: data["negation"].update(anaesthesia_keywords=["intubaton"]))
    with pytest.raises(PipelineError, match="anaesthesia_keywords names intubaton, not a keyword"):
        load_vocabulary(path)


def test_the_packaged_anaesthesia_keywords_are_deterioration_keywords():
    assert set(load_vocabulary().negation["anaesthesia_keywords"]) <= set(DETERIORATION_KEYWORDS)
