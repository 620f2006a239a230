"""Specification of the thesis figures (multimodal_deterioration.evidence.plots).

Every plotting function writes ``<stem>.png`` at 300 dpi and ``<stem>.pdf``, atomically (no
temporary files left behind, nothing half-written under a final name), and its legend shows the
labels the caller passed in. The figures are inspected just before they are saved, by wrapping
``plots.save_figure``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.figure
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from multimodal_deterioration.evidence import plots
from multimodal_deterioration.evidence.decision_curve import decision_curve
from multimodal_deterioration.evidence.results import EvaluationSettings, build_results

from helpers import fake_data, fake_experiment, fake_predictions

MODEL_LABELS = ("Multimodal: AUROC 0.861 [0.80, 0.91]", "Vital-only: AUROC 0.774 [0.70, 0.84]")


@pytest.fixture(scope="module")
def predictions() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Test labels and two models' probabilities, one clearly better than the other."""
    X, y = make_classification(
        n_samples=600, n_features=8, n_informative=4, weights=[0.8], random_state=0
    )
    X_fit, X_test, y_fit, y_test = train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
    strong = LogisticRegression(max_iter=1000).fit(X_fit, y_fit).predict_proba(X_test)[:, 1]
    weak = LogisticRegression(max_iter=1000).fit(X_fit[:, :2], y_fit).predict_proba(X_test[:, :2])
    return y_test, {MODEL_LABELS[0]: strong, MODEL_LABELS[1]: weak[:, 1]}


@pytest.fixture
def captured(monkeypatch) -> list[matplotlib.figure.Figure]:
    """Figures handed to ``save_figure``, recorded before they are written and closed."""
    figures: list[matplotlib.figure.Figure] = []
    original = plots.save_figure

    def recording_save_figure(figure, path_stem):
        figures.append(figure)
        return original(figure, path_stem)

    monkeypatch.setattr(plots, "save_figure", recording_save_figure)
    return figures


def histories() -> dict[str, list[dict[str, float]]]:
    rng = np.random.default_rng(0)
    out = {}
    for name, ceiling in (("Multimodal", 0.86), ("Vital-only", 0.77)):
        out[name] = [
            {
                "epoch": epoch,
                "train_loss": 1.0 / epoch + 0.01 * rng.random(),
                "val_loss": 1.1 / epoch + 0.05,
                "val_auroc": ceiling - 0.2 / epoch,
            }
            for epoch in range(1, 13)
        ]
    return out


def draw(kind: str, stem: Path, predictions) -> list[Path]:
    """Call one plotting function with realistic arguments."""
    y, probabilities = predictions
    if kind == "training_curves":
        return plots.plot_training_curves(
            histories(), stem, reported_baseline_auroc=0.78, best_epochs={"Multimodal": 9}
        )
    if kind == "roc":
        return plots.plot_roc_curves(y, probabilities, stem)
    if kind == "pr":
        return plots.plot_pr_curves(y, probabilities, stem)
    if kind == "reliability":
        return plots.plot_reliability_diagram(y, probabilities, stem, n_bins=10)
    if kind == "decision_curve":
        curve = decision_curve(y, dict(zip(("Multimodal", "Vital-only"), probabilities.values())))
        return plots.plot_decision_curve(
            curve["thresholds"],
            {name: curve["net_benefit"][name] for name in ("Multimodal", "Vital-only")},
            stem,
            curve["net_benefit"]["treat_all"],
        )
    raise AssertionError(kind)


KINDS = ("training_curves", "roc", "pr", "reliability", "decision_curve")


def legend_texts(figure: matplotlib.figure.Figure) -> list[str]:
    texts = []
    legends = [axis.get_legend() for axis in figure.axes] + list(figure.legends)
    for legend in legends:
        if legend is not None:
            texts += [text.get_text() for text in legend.get_texts()]
    return texts


def test_every_public_plot_function_is_covered():
    """A new plot_* function fails here until it is added to KINDS and ``draw``."""
    public = {
        name for name, value in vars(plots).items() if name.startswith("plot_") and callable(value)
    }
    assert public == {
        "plot_training_curves",
        "plot_roc_curves",
        "plot_pr_curves",
        "plot_reliability_diagram",
        "plot_decision_curve",
    }


@pytest.mark.parametrize("kind", KINDS)
def test_writes_a_png_and_a_pdf_and_returns_their_paths(kind, tmp_path, predictions):
    stem = tmp_path / f"figure_{kind}"
    paths = draw(kind, stem, predictions)
    assert paths == [tmp_path / f"figure_{kind}.png", tmp_path / f"figure_{kind}.pdf"]
    for path in paths:
        assert path.is_file() and path.stat().st_size > 1000, path


@pytest.mark.parametrize("kind", KINDS)
def test_png_is_a_300_dpi_image(kind, tmp_path, predictions):
    png = draw(kind, tmp_path / kind, predictions)[0]
    with Image.open(png) as image:
        assert image.format == "PNG"
        dpi = image.info["dpi"]
        width, height = image.size
    assert dpi == pytest.approx((300, 300), abs=0.5)
    # A thesis figure several inches wide at 300 dpi is well over 1000 pixels across.
    assert width > 1000 and height > 700


@pytest.mark.parametrize("kind", KINDS)
def test_pdf_is_a_complete_pdf_file(kind, tmp_path, predictions):
    pdf = draw(kind, tmp_path / kind, predictions)[1]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")


@pytest.mark.parametrize("kind", KINDS)
def test_no_temporary_files_are_left_and_a_rerun_overwrites(kind, tmp_path, predictions):
    draw(kind, tmp_path / "fig", predictions)
    first = (tmp_path / "fig.png").stat().st_mtime_ns
    draw(kind, tmp_path / "fig", predictions)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.pdf", "fig.png"]
    assert (tmp_path / "fig.png").stat().st_mtime_ns >= first


def test_a_failed_write_leaves_no_file_under_the_final_name(tmp_path, predictions, monkeypatch):
    original = matplotlib.figure.Figure.savefig

    def failing_savefig(self, fname, *args, **kwargs):
        if kwargs.get("format") == "pdf":
            Path(fname).write_bytes(b"%PDF-1.4 half written")
            raise OSError("disk full")
        return original(self, fname, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", failing_savefig)
    with pytest.raises(OSError, match="disk full"):
        draw("roc", tmp_path / "roc", predictions)
    assert not (tmp_path / "roc.pdf").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["roc.png"], "no temporary files"


@pytest.mark.parametrize("kind", ("roc", "pr", "reliability"))
def test_curve_legends_show_the_labels_passed_in(kind, tmp_path, predictions, captured):
    draw(kind, tmp_path / kind, predictions)
    (figure,) = captured
    texts = legend_texts(figure)
    for label in MODEL_LABELS:
        assert label in texts, (label, texts)


def test_roc_legend_has_a_chance_line_and_models_differ_beyond_colour(
    tmp_path, predictions, captured
):
    draw("roc", tmp_path / "roc", predictions)
    (figure,) = captured
    assert legend_texts(figure) == ["Chance", *MODEL_LABELS]
    lines = {line.get_label(): line for line in figure.axes[0].get_lines()}
    looks = {(str(lines[m].get_linestyle()), str(lines[m].get_marker())) for m in MODEL_LABELS}
    assert len(looks) == len(MODEL_LABELS), "readable in greyscale: style and marker differ"


def test_pr_legend_states_the_positive_rate(tmp_path, predictions, captured):
    y, _ = predictions
    draw("pr", tmp_path / "pr", predictions)
    (figure,) = captured
    assert f"Positive rate {np.mean(y):.3f}" in legend_texts(figure)


def test_roc_curve_ends_at_the_corners(tmp_path, predictions, captured):
    draw("roc", tmp_path / "roc", predictions)
    (figure,) = captured
    line = next(c for c in figure.axes[0].get_lines() if c.get_label() == MODEL_LABELS[0])
    x, y = line.get_data()
    assert (x[0], y[0]) == (0.0, 0.0) and (x[-1], y[-1]) == (1.0, 1.0)


def test_training_curves_have_one_figure_legend_naming_each_model_and_the_quoted_baseline(
    tmp_path, predictions, captured
):
    draw("training_curves", tmp_path / "curves", predictions)
    (figure,) = captured
    assert all(axis.get_legend() is None for axis in figure.axes)
    (legend,) = figure.legends
    assert [t.get_text() for t in legend.get_texts()] == [
        "Multimodal",
        "Vital-only",
        "Quoted baseline 0.7800 (not re-measured)",
    ]


def test_training_curves_draw_one_line_per_model_in_each_panel(tmp_path, predictions, captured):
    draw("training_curves", tmp_path / "curves", predictions)
    (figure,) = captured
    records = histories()
    for axis, key in zip(figure.axes, ("train_loss", "val_loss", "val_auroc")):
        curves = [line for line in axis.get_lines() if len(line.get_xdata()) > 1]
        curves = [line for line in curves if line.get_label() in records]
        assert [line.get_label() for line in curves] == list(records)
        for line in curves:
            assert list(line.get_ydata()) == [r[key] for r in records[line.get_label()]]


def test_training_curve_legend_lies_outside_every_panel(tmp_path, predictions, captured):
    """A legend over the data hides the curves a reader must compare (thesis figures)."""
    draw("training_curves", tmp_path / "curves", predictions)
    (figure,) = captured
    canvas = FigureCanvasAgg(figure)  # pyplot detached the figure from its canvas on closing it
    canvas.draw()
    renderer = canvas.get_renderer()
    legend_box = figure.legends[0].get_window_extent(renderer)
    for axis in figure.axes:
        assert not legend_box.overlaps(axis.get_window_extent(renderer))


def test_training_curves_mark_the_selected_epoch(tmp_path, predictions, captured):
    draw("training_curves", tmp_path / "curves", predictions)
    (figure,) = captured
    stars = [line for line in figure.axes[-1].get_lines() if line.get_marker() == "*"]
    assert len(stars) == 1
    x, y = stars[0].get_data()
    record = histories()["Multimodal"][8]
    assert (np.ravel(x)[0], np.ravel(y)[0]) == pytest.approx((9, record["val_auroc"]))


def test_training_curves_without_optional_arguments(tmp_path, captured):
    paths = plots.plot_training_curves(histories(), tmp_path / "plain")
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    (figure,) = captured
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["Multimodal", "Vital-only"]


def test_decision_curve_draws_each_models_net_benefit_and_both_reference_strategies(
    tmp_path, predictions, captured
):
    y, probabilities = predictions
    curve = decision_curve(y, dict(zip(("Multimodal", "Vital-only"), probabilities.values())))
    draw("decision_curve", tmp_path / "dca", predictions)
    (figure,) = captured
    (axis,) = figure.axes
    lines = {line.get_label(): line for line in axis.get_lines()}
    assert legend_texts(figure) == ["Multimodal", "Vital-only", "Treat all", "Treat none"]
    for name in ("Multimodal", "Vital-only", "treat_all"):
        label = "Treat all" if name == "treat_all" else name
        np.testing.assert_allclose(lines[label].get_ydata(), curve["net_benefit"][name])
        np.testing.assert_allclose(lines[label].get_xdata(), 100 * np.array(curve["thresholds"]))


def test_write_figures_draws_every_figure_of_a_run_with_legends_from_the_results(
    tmp_path, captured
):
    data = fake_data()
    val_prob = fake_predictions(data, "val", ablations=False, seed=1)
    test_prob = fake_predictions(data, "test", ablations=False, seed=2)
    experiment = fake_experiment(data, val_prob, test_prob)
    results = build_results(experiment, data, EvaluationSettings(bootstrap_resamples=50))
    y = data.splits["test"].y
    records = next(iter(histories().values()))
    recalibrated = {name: test_prob[name] / 2 for name in plots.RELIABILITY_MODELS}
    figures = plots.write_figures(
        results,
        y,
        test_prob,
        {"multimodal": records, "vital_only": records},
        {"multimodal": 9},
        tmp_path,
        recalibrated,
    )
    assert list(figures) == [
        "roc",
        "pr",
        "reliability",
        "curves",
        "reliability_recalibrated",
        "decision_curve",
    ]
    for key, paths in figures.items():
        stem = plots.FIGURE_STEMS[key]
        assert paths == [tmp_path / f"{stem}.png", tmp_path / f"{stem}.pdf"]
        assert all(path.stat().st_size > 0 for path in paths)
    assert plots.legend_label(results, "multimodal", "auroc") in legend_texts(captured[0])
    ece = results["metrics"]["vital_only"]["recalibrated"]["test"]["ece_after"]
    assert f"Vital-only (ECE {ece:.3f})" in " ".join(legend_texts(captured[4]))
    without = plots.write_figures(results, y, test_prob, {}, {}, tmp_path / "again")
    assert "reliability_recalibrated" not in without
