"""Write ``multimodal_report.md`` from the results dict.

Every number in the report is formatted from ``multimodal_results.json`` (by
:mod:`multimodal_deterioration.evidence.wording`), so the report and the JSON cannot disagree.
The Methods section is written by :mod:`multimodal_deterioration.evidence.report_methods`, the
Results by :mod:`multimodal_deterioration.evidence.report_findings`, and the limitations here
follow from the run's own facts: how notes were paired, how high the quoted baseline is, whether
the data were synthetic. The figures are drawn by :mod:`multimodal_deterioration.evidence.plots`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..base.artifacts import save_text
from .plots import RELIABILITY_MODELS
from .report_findings import (
    added_value_paragraph,
    calibration_table,
    controls_section,
    decision_curve_paragraph,
    main_finding,
    reference_threshold_table,
    resplits_section,
    results_table,
    seeds_section,
)
from .report_methods import methods_paragraph
from .report_subgroups import subgroups_section
from .results_schema import ResultsFile
from .wording import number, pairing_phrase

# The quoted baseline above which "little room to improve" is stated as a limitation.
CEILING_AUROC = 0.99
FIGURE_CAPTIONS = {
    "roc": "ROC curves of every model on the test split; the legend gives each AUROC with its 95% bootstrap CI.",
    "pr": "Precision-recall curves on the test split; the dashed line is the positive rate (a random model's precision).",
    "reliability": "Reliability diagram (10 equal-width bins) of the multimodal and vital-only models on the test split, with the samples per bin below.",
    "reliability_recalibrated": "Reliability diagram of the same two models after recalibration fitted on the validation split (method in the JSON), on the test split.",
    "decision_curve": "Decision curve on the test split: net benefit of the multimodal and vital-only models (recalibrated probabilities) against treating all or no patients, over threshold probabilities of 1-50%.",
    "curves": "Training loss, validation loss and validation AUROC per epoch, one line per trained model; stars mark the epoch each model was selected at, the dashed line the quoted (not re-measured) baseline.",
}


def limitations(results: ResultsFile) -> str:
    """The Limitations list, each item following from this run's facts (synthetic data, the
    pairing and its warnings, the quoted baseline's ceiling, calibration, one split or several).
    """
    meta = results.get("meta") or {}
    items = []
    if meta.get("demo") or meta.get("synthetic"):
        items.append(
            "**These data are synthetic** (the project's demo cohort): the numbers show that the "
            "pipeline works, not anything about patients."
        )
    items.extend(pairing_limitations(results["pairing"]))
    quoted = results["reported_baseline_auroc"]
    if quoted > CEILING_AUROC:
        items.append(
            f"The quoted vital-only baseline of {number(quoted)} leaves at most "
            f"{number(1 - quoted)} AUROC to gain, well inside a typical confidence interval; "
            "published gains from adding notes to vitals are about 0.01-0.03 AUROC, so a ceiling "
            "this high leaves little room to show any."
        )
    worst_ece = max(results["metrics"][m]["expected_calibration_error"] for m in RELIABILITY_MODELS)
    items.append(
        "Training weights the positive class by the negative-to-positive ratio, which pushes "
        f"the raw predicted probabilities upwards (expected calibration error up to "
        f"{number(worst_ece, 3)} here). The recalibrated probabilities (fitted on the validation "
        "split, saved in the checkpoint) are the ones to read as risks; the recalibration was "
        "checked on this test split only."
    )
    items.append(sampling_limitation(results))
    return "\n".join(f"- {item}" for item in items)


def pairing_limitations(pairing: dict) -> list[str]:
    """What the pairing of notes with samples (``results["pairing"]``) limits: the pairing rule,
    the preparation's warnings and notes shared by several samples."""
    method = pairing.get("method")
    if method in ("random", "sequential"):
        items = [
            f"Notes were paired with vital-sign samples {pairing_phrase(pairing)}, not by patient. "
            "A note therefore describes a different person than the vitals it is paired with, and "
            "any difference between the multimodal and vital-only models cannot be attributed to "
            "clinical information in the notes."
        ]
    elif method == "id" and pairing.get("timing_checked"):
        items = [
            "Notes were linked to samples by id, and only notes charted at or before each "
            "sample's prediction time were used; the result holds only if those ids identify the "
            "same patient and admission and if a note's chart time is when its content was known "
            "(in some records, e.g. MIMIC, a note is stored hours after the time it is charted "
            "at, so a note charted just before the prediction may not yet have existed then)."
        ]
    elif method == "id":
        items = [
            "**Note timing was not checked**: notes were linked to samples by id without chart "
            "times, so a note written after the outcome (a discharge summary, a death note) may "
            "have been used to predict it, which inflates the multimodal result. The result holds "
            "only if every note was written before the prediction time."
        ]
    else:
        items = [
            "The data file does not record how notes were paired with samples; unless they were "
            "linked by patient, a difference cannot be attributed to clinical information."
        ]
    items.extend(f"Pairing warning: {warning}." for warning in pairing.get("warnings") or [])
    reused = pairing.get("reused_samples", 0)
    if reused:
        items.append(
            f"{reused:,} samples share a note with another sample of the same split (too few notes for the samples)."
        )
    return items


def sampling_limitation(results: ResultsFile) -> str:
    """What the confidence intervals reflect, and that one split (or these data's splits) is
    not another site."""
    sources = (
        "test-set sampling and training randomness (seeds)"
        if results["added_value"]["includes_training_randomness"]
        else "test-set sampling only (one training seed)"
    )
    if results.get("resplits") is None:
        return (
            f"All results come from a single train/validation/test split; the confidence "
            f"intervals reflect {sources}, not the variation between splits or sites."
        )
    return (
        f"The confidence intervals reflect {sources}; the repeated splits show the "
        "variation between splits of these data, not between sites."
    )


def figures_section(figures: Mapping[str, Sequence[Path]], report_dir: Path) -> str:
    """Each figure's PNG embedded with its caption and a link to its PDF, relative paths."""
    lines = []
    for key, paths in figures.items():
        png = next(p for p in paths if p.suffix == ".png")
        pdf = next(p for p in paths if p.suffix == ".pdf")
        lines.append(
            f"![{FIGURE_CAPTIONS[key]}]({os.path.relpath(png, report_dir)})\n\n"
            f"*{FIGURE_CAPTIONS[key]}* (vector version: `{os.path.relpath(pdf, report_dir)}`)\n"
        )
    return "\n".join(lines)


def render_report(
    results: ResultsFile, figures: Mapping[str, Sequence[Path]], report_dir: Path
) -> str:
    """The whole ``multimodal_report.md`` text; figure links are relative to ``report_dir``."""
    meta = results.get("meta") or {}
    banner = (
        "> **SYNTHETIC DEMO DATA.** Every number below comes from the project's synthetic cohort; "
        "none is clinical evidence.\n\n"
        if meta.get("demo") or meta.get("synthetic")
        else ""
    )
    run = results["run"]
    return f"""# Do clinical notes add predictive value to vital signs?

{banner}Generated by `train_multimodal_lstm.py` from `{run["config"]["data_file"]}` (sha256 `{run["data_sha256"][:16]}`) on device `{run["device"]}`. Every number here is copied from `multimodal_results.json`.

## Methods

{methods_paragraph(results)}

## Results

{results_section(results)}

## Limitations

{limitations(results)}

## Figures

{figures_section(figures, report_dir)}"""


def results_section(results: ResultsFile) -> str:
    """The Results section: the main finding, the metric tables and the sub-sections."""
    return f"""{main_finding(results)}

Test-split metrics of every model (sensitivity, specificity, PPV and NPV at each model's validation-chosen threshold):

{results_table(results)}

At the reference threshold of {results["reference_threshold"]:g}:

{reference_threshold_table(results)}

### Calibration

Brier score and expected calibration error on the test split, before and after recalibration on the validation split:

{calibration_table(results)}

### Added value beyond AUROC

{added_value_paragraph(results)}

### Decision curve

{decision_curve_paragraph(results)}

### Seeds

{seeds_section(results)}

### Repeated splits

{resplits_section(results)}

### Negative controls and ablations

{controls_section(results)}

### By note availability and recency

{subgroups_section(results)}"""


def write_report(
    path: str | os.PathLike, results: ResultsFile, figures: Mapping[str, Sequence[Path]]
) -> Path:
    """Render the report and write it to ``path`` atomically; returns the path."""
    path = Path(path)
    text = render_report(results, figures, path.parent)
    return save_text(path, text)
