"""Figures for a thesis: training curves, ROC and PR curves, and a reliability diagram.

Every figure is written twice, as a 300 dpi PNG and as a vector PDF, atomically. Models differ
in line style and marker as well as colour, so the figures stay readable when printed in
greyscale. The ``plot_*`` functions draw what they are given; :func:`write_figures` draws every
figure of a run, with legends (AUCs and their confidence intervals, ECEs) composed from
``multimodal_results.json``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display is needed or wanted

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from sklearn.metrics import precision_recall_curve, roc_curve  # noqa: E402

from ..base.artifacts import write_atomically  # noqa: E402
from .evaluation import reliability_curve  # noqa: E402
from .results import DISPLAY_NAMES  # noqa: E402
from .results_schema import Results  # noqa: E402

DPI = 300
FIGURE_FORMATS = ("png", "pdf")
# Colour-blind-safe (Okabe-Ito) colours, each paired with a line style and marker of its own.
STYLES = (
    {"color": "#000000", "linestyle": "-", "marker": "o"},
    {"color": "#0072B2", "linestyle": "--", "marker": "s"},
    {"color": "#D55E00", "linestyle": "-.", "marker": "^"},
    {"color": "#009E73", "linestyle": ":", "marker": "D"},
    {"color": "#CC79A7", "linestyle": (0, (5, 1, 1, 1, 1, 1)), "marker": "v"},
    {"color": "#E69F00", "linestyle": (0, (1, 1)), "marker": "P"},
)
REFERENCE_LINE = {"color": "0.5", "linestyle": "--", "linewidth": 1.0}
# The reliability diagram shows the two models being compared; six overlapping curves are unreadable.
RELIABILITY_MODELS = ("multimodal", "vital_only")
# The file name (without extension) of each figure of a run, in the output folder.
FIGURE_STEMS = {
    "roc": "multimodal_roc_curves",
    "pr": "multimodal_pr_curves",
    "reliability": "multimodal_reliability_diagram",
    "reliability_recalibrated": "multimodal_reliability_recalibrated",
    "decision_curve": "multimodal_decision_curve",
    "curves": "multimodal_training_curves",
}
RC_PARAMS = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 7.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "pdf.fonttype": 42,  # TrueType in the PDF, so journals' checks accept the fonts
}


def style(index: int) -> dict:
    return STYLES[index % len(STYLES)]


def save_figure(figure: plt.Figure, path_stem: str | os.PathLike) -> list[Path]:
    """Write ``<stem>.png`` (300 dpi) and ``<stem>.pdf``; returns both paths."""
    stem = Path(path_stem)
    paths = []
    try:
        for fmt in FIGURE_FORMATS:
            final = stem.with_name(f"{stem.name}.{fmt}")
            paths.append(
                write_atomically(
                    final,
                    lambda tmp, fmt=fmt: figure.savefig(
                        tmp, format=fmt, dpi=DPI, bbox_inches="tight"
                    ),
                )
            )
    finally:
        plt.close(figure)  # figures are not garbage-collected while pyplot tracks them
    return paths


def _legend_below(axis: plt.Axes) -> None:
    """Under the axes: legends with AUCs and intervals are long and would hide the curves."""
    axis.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=1)


def _markers_every(n_points: int) -> int:
    return max(1, n_points // 8)


def _model_line(axis: plt.Axes, x, y, index: int, label: str, **extra) -> None:
    """One model's curve in its own colour, line style and sparse markers."""
    look = style(index)
    axis.plot(
        x,
        y,
        color=look["color"],
        linestyle=look["linestyle"],
        marker=look["marker"],
        markevery=_markers_every(len(x)),
        markersize=3,
        label=label,
        **extra,
    )


def plot_training_curves(
    histories: Mapping[str, Sequence[Mapping[str, float]]],
    path_stem: str | os.PathLike,
    reported_baseline_auroc: float | None = None,
    best_epochs: Mapping[str, int] | None = None,
) -> list[Path]:
    """Training loss, validation loss and validation AUROC per epoch: one panel each, one line
    per model, one legend for the whole figure below the panels.

    ``histories`` maps a display name to epoch records with ``epoch``, ``train_loss``,
    ``val_loss`` and ``val_auroc``. The quoted baseline is drawn as a dashed horizontal line and
    each model's selected (best) epoch as a star. Train and validation loss get panels of their
    own because on one axis, six models made twelve lines that no legend could untangle.
    """
    panels = (
        ("train_loss", "Weighted BCE loss", "Training loss"),
        ("val_loss", "Weighted BCE loss", "Validation loss"),
        ("val_auroc", "AUROC", "Validation AUROC (* = selected epoch)"),
    )
    with plt.rc_context(RC_PARAMS):
        figure, axes = plt.subplots(1, len(panels), figsize=(10.0, 3.4))
        auroc_axis = axes[-1]
        for index, (name, records) in enumerate(histories.items()):
            epochs = [r["epoch"] for r in records]
            for axis, (key, _, _) in zip(axes, panels):
                _model_line(axis, epochs, [r[key] for r in records], index, name)
            best = next((r for r in records if r["epoch"] == (best_epochs or {}).get(name)), None)
            if best is not None:
                auroc_axis.plot(
                    best["epoch"],
                    best["val_auroc"],
                    marker="*",
                    markersize=10,
                    color=style(index)["color"],
                    linestyle="none",
                )
        if reported_baseline_auroc is not None:
            auroc_axis.axhline(
                reported_baseline_auroc,
                **REFERENCE_LINE,
                label=f"Quoted baseline {reported_baseline_auroc:.4f} (not re-measured)",
            )
        for axis, (_, ylabel, title) in zip(axes, panels):
            axis.set(xlabel="Epoch", ylabel=ylabel, title=title)
            axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        handles, labels = auroc_axis.get_legend_handles_labels()
        figure.tight_layout()
        figure.legend(
            handles,
            labels,
            frameon=False,
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            ncol=min(3, len(labels)),
        )
        return save_figure(figure, path_stem)


def plot_roc_curves(
    y_true: np.ndarray, probabilities: Mapping[str, np.ndarray], path_stem: str | os.PathLike
) -> list[Path]:
    """ROC curves of several models on the same samples; legend labels are the dict keys."""
    with plt.rc_context(RC_PARAMS):
        figure, axis = plt.subplots(figsize=(4.6, 4.4))
        axis.plot([0, 1], [0, 1], **REFERENCE_LINE, label="Chance")
        for index, (label, prob) in enumerate(probabilities.items()):
            fpr, tpr, _ = roc_curve(y_true, prob)
            _model_line(axis, fpr, tpr, index, label, linewidth=1.3)
        axis.set(
            xlabel="1 - specificity (false positive rate)",
            ylabel="Sensitivity (true positive rate)",
            xlim=(0, 1),
            ylim=(0, 1.01),
            title="ROC curves, test split",
            aspect="equal",
        )
        _legend_below(axis)
        figure.tight_layout()
        return save_figure(figure, path_stem)


def plot_pr_curves(
    y_true: np.ndarray, probabilities: Mapping[str, np.ndarray], path_stem: str | os.PathLike
) -> list[Path]:
    """Precision-recall curves; the positive rate (a random model's precision) is dashed."""
    positive_rate = float(np.mean(y_true))
    with plt.rc_context(RC_PARAMS):
        figure, axis = plt.subplots(figsize=(4.6, 4.4))
        axis.axhline(positive_rate, **REFERENCE_LINE, label=f"Positive rate {positive_rate:.3f}")
        for index, (label, prob) in enumerate(probabilities.items()):
            precision, recall, _ = precision_recall_curve(y_true, prob)
            look = style(index)
            axis.step(
                recall,
                precision,
                where="post",
                color=look["color"],
                linestyle=look["linestyle"],
                linewidth=1.3,
                label=label,
            )
        axis.set(
            xlabel="Recall (sensitivity)",
            ylabel="Precision (PPV)",
            xlim=(0, 1),
            ylim=(0, 1.01),
            title="Precision-recall curves, test split",
        )
        _legend_below(axis)
        figure.tight_layout()
        return save_figure(figure, path_stem)


def plot_reliability_diagram(
    y_true: np.ndarray,
    probabilities: Mapping[str, np.ndarray],
    path_stem: str | os.PathLike,
    n_bins: int = 10,
    title: str = "Reliability diagram, test split",
) -> list[Path]:
    """Observed event rate against mean predicted probability per bin, with bin counts below."""
    with plt.rc_context(RC_PARAMS):
        figure, (curve_axis, count_axis) = plt.subplots(
            2, 1, figsize=(4.6, 5.4), sharex=True, gridspec_kw={"height_ratios": (3, 1)}
        )
        curve_axis.plot([0, 1], [0, 1], **REFERENCE_LINE, label="Perfect calibration")
        width = 1.0 / n_bins / max(1, len(probabilities))
        for index, (label, prob) in enumerate(probabilities.items()):
            table = reliability_curve(y_true, prob, n_bins=n_bins)
            look = style(index)
            curve_axis.plot(
                table["mean_predicted"],
                table["observed_rate"],
                color=look["color"],
                linestyle=look["linestyle"],
                marker=look["marker"],
                markersize=4,
                label=label,
            )
            count_axis.bar(
                table["bin_lower"] + index * width,
                table["count"],
                width=width,
                align="edge",
                color=look["color"],
                edgecolor="black",
                linewidth=0.3,
                hatch=("", "//", "..", "xx", "\\\\", "++")[index % 6],
            )
        curve_axis.set(
            ylabel="Observed event rate",
            xlim=(0, 1),
            ylim=(0, 1.01),
            title=title,
        )
        count_axis.set(xlabel="Predicted probability", ylabel="Samples")
        curve_axis.legend(frameon=False, loc="upper left")
        figure.tight_layout()
        return save_figure(figure, path_stem)


def plot_decision_curve(
    thresholds: Sequence[float],
    net_benefit: Mapping[str, Sequence[float]],
    path_stem: str | os.PathLike,
    treat_all: Sequence[float],
    title: str = "Decision curve, test split",
) -> list[Path]:
    """Net benefit against threshold probability (Vickers & Elkin 2006).

    ``net_benefit`` maps a legend label to one value per threshold; treat-all is drawn as a grey
    line and treat-none as zero. The y-axis stops a little below zero: treat-all falls steeply
    negative at high thresholds and would otherwise flatten the models' curves.
    """
    percent = 100.0 * np.asarray(thresholds, dtype=float)
    with plt.rc_context(RC_PARAMS):
        figure, axis = plt.subplots(figsize=(5.2, 4.0))
        for index, (label, values) in enumerate(net_benefit.items()):
            _model_line(axis, percent, values, index, label)
        axis.plot(percent, treat_all, color="0.55", linewidth=1.2, label="Treat all")
        axis.axhline(0.0, color="0.2", linewidth=0.8, label="Treat none")
        highest = max([max(values) for values in net_benefit.values()] + [max(treat_all), 0.0])
        axis.set(
            xlabel="Threshold probability (%)",
            ylabel="Net benefit",
            title=title,
            xlim=(percent[0], percent[-1]),
            ylim=(-0.05 * max(highest, 0.01), 1.1 * max(highest, 0.01)),
        )
        _legend_below(axis)
        figure.tight_layout()
        return save_figure(figure, path_stem)


# --------------------------------------------------------------------------- a run's figures


def write_figures(
    results: Results,
    y_test: np.ndarray,
    test_probabilities: Mapping[str, np.ndarray],
    histories: Mapping[str, Sequence[Mapping[str, float]]],
    best_epochs: Mapping[str, int],
    out_dir: str | os.PathLike,
    recalibrated_probabilities: Mapping[str, np.ndarray] | None = None,
) -> dict[str, list[Path]]:
    """Every figure of the run, PNG + PDF each, named by :data:`FIGURE_STEMS` in ``out_dir``,
    with legends composed from ``results``; returns {figure key: paths}.

    ``recalibrated_probabilities``: test probabilities after the validation-fitted calibrator,
    for the recalibrated reliability diagram (left out when a model has none).
    """
    out_dir = Path(out_dir)
    figures = {
        "roc": plot_roc_curves(
            y_test, by_legend(results, test_probabilities, "auroc"), out_dir / FIGURE_STEMS["roc"]
        ),
        "pr": plot_pr_curves(
            y_test, by_legend(results, test_probabilities, "auprc"), out_dir / FIGURE_STEMS["pr"]
        ),
        "reliability": plot_reliability_diagram(
            y_test,
            by_calibration(results, test_probabilities, recalibrated=False),
            out_dir / FIGURE_STEMS["reliability"],
        ),
        "curves": plot_training_curves(
            {DISPLAY_NAMES[m]: records for m, records in histories.items()},
            out_dir / FIGURE_STEMS["curves"],
            results["reported_baseline_auroc"],
            {DISPLAY_NAMES[m]: epoch for m, epoch in best_epochs.items()},
        ),
    }
    recalibrated = recalibrated_probabilities or {}
    if all(m in recalibrated for m in RELIABILITY_MODELS):
        figures["reliability_recalibrated"] = plot_reliability_diagram(
            y_test,
            by_calibration(results, recalibrated, recalibrated=True),
            out_dir / FIGURE_STEMS["reliability_recalibrated"],
            title="Reliability diagram after recalibration, test split",
        )
    curve = results["decision_curve"]
    figures["decision_curve"] = plot_decision_curve(
        curve["thresholds"],
        {DISPLAY_NAMES[m]: curve["net_benefit"][m] for m in RELIABILITY_MODELS},
        out_dir / FIGURE_STEMS["decision_curve"],
        curve["net_benefit"]["treat_all"],
    )
    return figures


def legend_label(results: Results, model: str, metric: str) -> str:
    """A figure legend entry: the model's display name, AUROC or AUPRC and its CI, 3 decimals."""
    name = "AUROC" if metric == "auroc" else "AUPRC"
    low, high = results["confidence_intervals"][model][metric]
    value = results["metrics"][model][metric]
    return f"{DISPLAY_NAMES[model]}: {name} {value:.3f} [{low:.3f}, {high:.3f}]"


def by_legend(
    results: Results, probabilities: Mapping[str, np.ndarray], metric: str
) -> dict[str, np.ndarray]:
    """Every model's probabilities keyed by its :func:`legend_label` for ``metric``."""
    return {legend_label(results, m, metric): probabilities[m] for m in probabilities}


def by_calibration(
    results: Results, probabilities: Mapping[str, np.ndarray], recalibrated: bool
) -> dict[str, np.ndarray]:
    """The probabilities of :data:`RELIABILITY_MODELS`, keyed by the model's name and test ECE
    (after recalibration when ``recalibrated``)."""
    labelled = {}
    for m in RELIABILITY_MODELS:
        metrics = results["metrics"][m]
        ece = (
            metrics["recalibrated"]["test"]["ece_after"]
            if recalibrated
            else metrics["expected_calibration_error"]
        )
        labelled[f"{DISPLAY_NAMES[m]} (ECE {ece:.3f})"] = probabilities[m]
    return labelled
