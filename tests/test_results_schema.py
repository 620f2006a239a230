"""The results dict has exactly the shape ``results_schema`` declares, in every variant of a run.

Each test builds results from a fake experiment (chosen predictions, no training) and checks
them recursively against the TypedDicts: every declared key is present with its declared type,
optional (``NotRequired``) keys may be absent, and no undeclared key appears. A key added to
``build_results`` or the script without a line in the schema fails here.
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any, Literal, NotRequired, Union, get_args, get_origin, get_type_hints

import numpy as np
import pytest
import torch

from multimodal_deterioration.base.settings import as_record
from multimodal_deterioration.evidence.plots import FIGURE_STEMS
from multimodal_deterioration.evidence.resplits import run_resplits
from multimodal_deterioration.evidence.results import EvaluationSettings, build_results
from multimodal_deterioration.evidence.results_schema import GainVerdict, Results, ResultsFile
from multimodal_deterioration.evidence.study import OUTPUT_FILES, StudyConfig, run_record
from multimodal_deterioration.evidence.tables import CSV_FILENAME, TEX_FILENAME
from multimodal_deterioration.evidence.verdict import GAIN_VERDICTS
from multimodal_deterioration.learning.experiment import ExperimentConfig
from multimodal_deterioration.learning.training import TrainingConfig

from helpers import fake_data, fake_experiment, fake_predictions

SETTINGS = EvaluationSettings(bootstrap_resamples=50)
PLAIN_TYPES = (bool, int, float, str)


def schema_errors(value: Any, hint: Any, path: str = "results") -> list[str]:
    """Where ``value`` departs from the type ``hint``, one message per departure.

    Plain JSON types are matched exactly (a numpy float or a bool is not a float); an int is
    accepted for a float, as JSON writes 2.0 as 2.0 but a reader may not care.
    """
    if hint is Any:
        return []
    if typing.is_typeddict(hint):
        return typeddict_errors(value, hint, path)
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        tries = [schema_errors(value, option, path) for option in get_args(hint)]
        if any(not errors for errors in tries):
            return []
        reasons = "; ".join(error for errors in tries for error in errors)
        return [f"{path}: matches no alternative of {hint}: {reasons}"]
    if origin is Literal:
        if any(type(value) is type(option) and value == option for option in get_args(hint)):
            return []
        return [f"{path}: {value!r} is not one of {get_args(hint)}"]
    if origin is list:
        # A tuple (e.g. a config's seeds) is written to JSON as a list.
        if type(value) not in (list, tuple):
            return [f"{path}: expected a list, got {type(value).__name__}"]
        (item,) = get_args(hint)
        return [e for i, v in enumerate(value) for e in schema_errors(v, item, f"{path}[{i}]")]
    if origin is dict:
        if type(value) is not dict:
            return [f"{path}: expected a dict, got {type(value).__name__}"]
        key_type, item = get_args(hint)
        errors = [f"{path}: key {k!r} is not a string" for k in value if type(k) is not key_type]
        return errors + [e for k, v in value.items() for e in schema_errors(v, item, f"{path}.{k}")]
    if hint is type(None):
        return [] if value is None else [f"{path}: expected None, got {value!r}"]
    if hint in PLAIN_TYPES:
        allowed = (float, int) if hint is float else (hint,)
        if type(value) in allowed:
            return []
        return [f"{path}: expected {hint.__name__}, got {type(value).__name__} {value!r}"]
    raise TypeError(f"{path}: the checker does not know the type {hint}")


def typeddict_errors(value: Any, schema: type, path: str) -> list[str]:
    if type(value) is not dict:
        return [f"{path}: expected a dict ({schema.__name__}), got {type(value).__name__}"]
    declared = get_type_hints(schema, include_extras=True)
    errors = [
        f"{path}.{key}: not declared in {schema.__name__}" for key in value if key not in declared
    ]
    for key, hint in declared.items():
        optional = get_origin(hint) is NotRequired or key in schema.__optional_keys__
        if get_origin(hint) is NotRequired:
            (hint,) = get_args(hint)
        if key in value:
            errors += schema_errors(value[key], hint, f"{path}.{key}")
        elif not optional:
            errors.append(f"{path}.{key}: missing (declared in {schema.__name__})")
    return errors


def assert_matches(results: dict, schema: type) -> None:
    # Checked as built and as read back: the JSON file is what every reader sees.
    for candidate in (results, json.loads(json.dumps(results))):
        errors = schema_errors(candidate, schema)
        assert not errors, "\n".join(errors)


def results_of(data, ablations: bool, val_prob=None) -> dict:
    val_prob = val_prob or fake_predictions(data, "val", ablations, seed=1)
    test_prob = fake_predictions(data, "test", ablations, seed=2)
    return build_results(fake_experiment(data, val_prob, test_prob, ablations), data, SETTINGS)


def test_the_checker_reports_a_missing_an_undeclared_and_a_mistyped_key():
    results = results_of(fake_data(), ablations=False)
    assert not schema_errors(results, Results)
    broken = json.loads(json.dumps(results))
    del broken["data"]["timesteps"]
    broken["metrics"]["multimodal"]["surprise"] = 1.0
    broken["bootstrap"]["resamples"] = np.float64(50.0)
    broken["controls"] = {"ran": True}
    errors = "\n".join(schema_errors(broken, Results))
    assert "results.data.timesteps: missing" in errors
    assert "results.metrics.multimodal.surprise: not declared" in errors
    assert "results.bootstrap.resamples: expected int, got float64" in errors
    assert "results.controls: matches no alternative" in errors


def test_results_without_controls_match_the_schema():
    results = results_of(fake_data(), ablations=False)
    assert results["controls"] == {"ran": False}
    assert_matches(results, Results)


def test_results_with_controls_and_a_calibrator_that_cannot_be_fitted_match_the_schema():
    data = fake_data()
    val_prob = fake_predictions(data, "val", ablations=True, seed=1)
    # Validation scores that separate the classes give Platt scaling no finite fit, so this
    # control's "recalibrated" takes its other shape: the reason instead of parameters.
    val_prob["text_only"] = np.where(data.splits["val"].y == 1, 0.9, 0.1)
    results = results_of(data, ablations=True, val_prob=val_prob)
    assert results["controls"]["ran"] is True
    assert "not_fitted" in results["metrics"]["text_only"]["recalibrated"]
    assert_matches(results, Results)


def test_results_with_test_ids_use_the_clustered_delong_test_and_match_the_schema():
    results = results_of(fake_data(ids=True), ablations=False)
    delong = results["statistics"]["delong_multimodal_vs_vital_only"]
    assert delong["clusters"] == 50 and "clustered" in delong["method"]
    assert results["bootstrap"]["resampled_by"] == "sample id"
    assert_matches(results, Results)


PREPARED_META = {
    "demo": True,
    "synthetic": True,
    "created_utc": "2025-01-01T00:00:00+00:00",
    "notes": {"source": "notes.jsonl", "split": "train", "count": 300, "loaded": 300},
    "vitals_file": "processed_data.npz",
    "vitals_sha256": "0" * 64,
    "embedding_model": {"name": "sentence-transformers/all-MiniLM-L6-v2", "dimension": 8},
    "text_strategy": "key-sentences",
    "embedding_truncation": {"notes": 300, "notes_truncated": 0},
    "pairing": {"method": "random", "seed": 3, "clinically_linked": False, "warnings": ["w"]},
    "seed": 42,
    "versions": {"python": "3.11"},
}


def script_additions(results: dict, data, resplits: dict | None) -> dict:
    """``run``, ``meta``, ``files`` (and ``resplits``) as ``study.run_study`` adds them."""
    out = "/out"
    figures = {
        key: [f"{out}/{stem}.png", f"{out}/{stem}.pdf"] for key, stem in FIGURE_STEMS.items()
    }
    study = StudyConfig(resplits=None if resplits is None else resplits["k"])
    config = ExperimentConfig()
    # What training saves with the predictions, from which the study writes the run record.
    record = {
        "settings": {
            "training": as_record(config.training),
            "experiment": as_record(config),
            "study": as_record(study),
        },
        "trained_utc": "2025-01-01T00:00:00+00:00",
        "device": "cpu",
        "data_sha256": "0" * 64,
    }
    added = {
        "run": run_record(record, study, SETTINGS)
        | {"seconds": {"training": 1.5, "evaluation": 0.5}},
        "meta": data.meta,
        "files": {key: f"{out}/{name}" for key, name in OUTPUT_FILES.items()}
        | {
            "tables": [f"{out}/{name}" for name in (CSV_FILENAME, TEX_FILENAME)],
            "figures": figures,
        },
    }
    if resplits is not None:
        added["resplits"] = resplits
    return {**results, **added}


@pytest.fixture(scope="module")
def resplit_summary():
    data = fake_data(ids=True)
    config = ExperimentConfig(TrainingConfig(epochs=1, batch_size=64))
    return run_resplits(data, config, 2, torch.device("cpu"), log=None, progress=False)


def test_the_written_results_with_run_meta_files_and_resplits_match_the_schema(resplit_summary):
    data = fake_data(ids=True, meta=PREPARED_META)
    results = results_of(data, ablations=False)
    assert results["pairing"]["method"] == "random"
    assert_matches(script_additions(results, data, resplit_summary), ResultsFile)


def test_the_written_results_without_resplits_or_meta_match_the_schema():
    data = fake_data()
    written = script_additions(results_of(data, ablations=False), data, None)
    assert written["meta"] == {} and "resplits" not in written
    assert_matches(written, ResultsFile)


def test_the_schema_lists_every_gain_verdict():
    assert set(get_args(GainVerdict)) == set(GAIN_VERDICTS)
