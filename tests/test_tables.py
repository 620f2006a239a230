"""The thesis tables carry the results JSON's numbers: exactly in the CSV, to 3 decimals in LaTeX.

The results come from ``build_results`` on a fake run (chosen predictions, no training), with one
model made to flag no test sample so that its PPV is undefined.
"""

from __future__ import annotations

import copy
import csv
import json
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from multimodal_deterioration.evidence import evaluation
from multimodal_deterioration.evidence.results import (
    DISPLAY_NAMES,
    EvaluationSettings,
    build_results,
)
from multimodal_deterioration.evidence.tables import (
    CSV_FILENAME,
    SUBGROUPS_CSV_FILENAME,
    TEX_FILENAME,
    latex_escape,
    latex_table,
    results_table_frame,
    write_results_tables,
)

from helpers import fake_data, fake_experiment, fake_predictions

# The model made to flag nobody on the test split: its PPV has a zero denominator.
NO_ALARM_MODEL = "notes_zeroed_at_test"
RANDOM_PAIRING = {"method": "random", "seed": 3, "clinically_linked": False}
ENGINES = [engine for engine in ("pdflatex", "lualatex") if shutil.which(engine)]
# A4 with 2.5 cm margins, a common thesis text block.
THESIS_TEXT_WIDTH_PT = 16 / 2.54 * 72.27


def make_results(meta: dict | None = None) -> dict:
    """A results dict as ``train_multimodal_lstm.py`` writes it (JSON round trip included)."""
    data = fake_data(ids=True, meta=meta if meta is not None else {"pairing": RANDOM_PAIRING})
    val_prob = fake_predictions(data, "val", ablations=True)
    test_prob = fake_predictions(data, "test", ablations=True, seed=10)
    threshold = evaluation.youden_threshold(data.splits["val"].y, val_prob[NO_ALARM_MODEL])
    test_prob[NO_ALARM_MODEL] = test_prob[NO_ALARM_MODEL] * threshold * 0.99
    experiment = fake_experiment(data, val_prob, test_prob, ablations=True)
    results = build_results(experiment, data, EvaluationSettings(bootstrap_resamples=200))
    results["meta"] = data.meta
    return json.loads(json.dumps(results))


@pytest.fixture(scope="module")
def results() -> dict:
    return make_results({"demo": True, "synthetic": True, "pairing": RANDOM_PAIRING})


def expected_values(results: dict, model: str) -> dict:
    """Each table column's value, read from the JSON the way its documentation names it."""
    metrics = results["metrics"][model]
    chosen = metrics["at_validation_threshold"]
    intervals = results["confidence_intervals"][model]
    values = {
        "auroc": metrics["auroc"],
        "auprc": metrics["auprc"],
        "brier_score": metrics["brier_score"],
        "expected_calibration_error": metrics["expected_calibration_error"],
        "threshold": chosen["threshold"],
        "ppv": chosen["ppv"],
        "npv": chosen["npv"],
    }
    for metric in ("sensitivity", "specificity"):
        values[metric] = chosen[metric]
    for metric in ("auroc", "auprc", "sensitivity", "specificity"):
        values[f"{metric}_ci_low"], values[f"{metric}_ci_high"] = intervals[metric]
    return values


# --------------------------------------------------------------------------- parsing LaTeX

STACKED = re.compile(
    r"\\begin\{tabular\}\[t\]\{@\{\}c@\{\}\}(.*?)\\\\\((.*?)--(.*?)\)\\end\{tabular\}"
)
TEX_VALUE_COLUMNS = [
    "auroc",
    "auprc",
    "brier_score",
    "expected_calibration_error",
    "threshold",
    "sensitivity",
    "specificity",
    "ppv",
    "npv",
]


def outer_tabular(tex: str) -> tuple[str, list[str]]:
    """The outer tabular's column spec and its body lines (each row is one source line)."""
    lines = tex.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(r"\begin{tabular}{"))
    end = max(i for i, line in enumerate(lines) if line.startswith(r"\end{tabular}"))
    spec = re.match(r"\\begin\{tabular\}\{(.*)\}$", lines[start]).group(1)
    return spec, lines[start + 1 : end]


def cells(row: str) -> list[str]:
    assert row.endswith(r"\\")
    return [cell.strip() for cell in re.split(r"(?<!\\)&", row[: -len(r"\\")])]


def model_rows(tex: str) -> list[list[str]]:
    _, body = outer_tabular(tex)
    after_midrule = body[body.index(r"\midrule") + 1 :]
    return [cells(line) for line in after_midrule if line.endswith(r"\\")]


def spec_columns(spec: str) -> int:
    return len(re.findall(r"p\{[^}]*\}|[lcr]", spec))


def row_width(row: list[str]) -> int:
    return sum(
        int(m.group(1)) if (m := re.match(r"\\multicolumn\{(\d+)\}", cell)) else 1 for cell in row
    )


def assert_rounded(cell: str, value: float | None) -> None:
    if value is None:
        assert cell == "n/a"
    else:
        assert re.fullmatch(r"\d+\.\d{3}", cell), cell
        assert float(cell) == round(value, 3)


# --------------------------------------------------------------------------- CSV


def test_every_csv_number_equals_the_json_value_exactly(results, tmp_path):
    csv_path, _, _ = write_results_tables(results, tmp_path)
    with open(csv_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["model"] for row in rows] == list(results["metrics"])
    assert [row["model_name"] for row in rows] == [DISPLAY_NAMES[m] for m in results["metrics"]]
    for row in rows:
        expected = expected_values(results, row["model"])
        assert set(row) == {"model", "model_name", *expected}
        for column, value in expected.items():
            if value is None:
                assert row[column] == "", column
            else:
                assert float(row[column]) == value, (row["model"], column)


def test_the_frame_holds_the_json_numbers_unrounded_with_nan_for_undefined(results):
    frame = results_table_frame(results)
    assert list(frame.columns[:2]) == ["model", "model_name"]
    assert list(frame["model"]) == list(results["metrics"])
    for _, row in frame.iterrows():
        for column, value in expected_values(results, row["model"]).items():
            assert pd.isna(row[column]) if value is None else row[column] == value, column


def test_an_undefined_ratio_is_empty_in_the_csv_and_na_in_latex(results, tmp_path):
    assert results["metrics"][NO_ALARM_MODEL]["at_validation_threshold"]["ppv"] is None
    csv_path, tex_path, _ = write_results_tables(results, tmp_path)
    with open(csv_path, newline="", encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["model"] == NO_ALARM_MODEL)
    assert row["ppv"] == ""
    tex = tex_path.read_text(encoding="utf-8")
    index = list(results["metrics"]).index(NO_ALARM_MODEL)
    assert model_rows(tex)[index][1 + TEX_VALUE_COLUMNS.index("ppv")] == "n/a"
    assert "n/a: undefined" in tex


# --------------------------------------------------------------------------- LaTeX numbers


def test_every_latex_number_equals_the_json_value_to_three_decimals(results):
    rows = model_rows(latex_table(results))
    assert len(rows) == len(results["metrics"])
    for model, row in zip(results["metrics"], rows):
        assert row[0] == r"\raggedright " + latex_escape(DISPLAY_NAMES[model])
        expected = expected_values(results, model)
        for column, cell in zip(TEX_VALUE_COLUMNS, row[1:], strict=True):
            stacked = STACKED.fullmatch(cell)
            if column in ("auroc", "auprc", "sensitivity", "specificity"):
                assert stacked, (model, column, cell)
                estimate, low, high = stacked.groups()
                assert_rounded(estimate, expected[column])
                assert_rounded(low, expected[f"{column}_ci_low"])
                assert_rounded(high, expected[f"{column}_ci_high"])
            else:
                assert not stacked
                assert_rounded(cell, expected[column])


def test_the_header_names_the_columns_in_order(results):
    _, body = outer_tabular(latex_table(results))
    names = cells(next(line for line in body if line.startswith("Model &")))
    assert names == ["Model", "AUROC", "AUPRC", "Brier", "ECE", "$t$", "Sensitivity",
                     "Specificity", "PPV", "NPV"]  # fmt: skip


@pytest.mark.parametrize(
    "text, escaped",
    [
        ("notes_zeroed", r"notes\_zeroed"),
        ("50% & more", r"50\% \& more"),
        ("#1 $5 {x}", r"\#1 \$5 \{x\}"),
        (r"a\b ~ ^", r"a\textbackslash{}b \textasciitilde{} \textasciicircum{}"),
    ],
)
def test_latex_special_characters_are_escaped_once(text, escaped):
    assert latex_escape(text) == escaped


def test_model_names_with_special_characters_are_escaped_in_the_table(results, monkeypatch):
    monkeypatch.setitem(DISPLAY_NAMES, "vital_only", "Vital_only 50% & co")
    tex = latex_table(results)
    assert r"Vital\_only 50\% \& co" in tex
    assert "Vital_only" not in tex
    assert results_table_frame(results).loc[1, "model_name"] == "Vital_only 50% & co"
    assert_structure(tex)


# --------------------------------------------------------------------------- caption


def caption_of(tex: str) -> str:
    return re.search(r"\\caption\[[^\]]*\]\{(.*)\}$", tex, re.MULTILINE).group(1)


def test_the_caption_states_test_size_pairing_bootstrap_and_threshold(results):
    text = caption_of(latex_table(results))
    positive_rate = np.mean(fake_data(ids=True).splits["test"].y)
    assert (
        f"test split ({results['test_samples']} samples, positive rate {positive_rate:.3f})" in text
    )
    assert "at random (seed 3)" in text and "not linked by patient" in text
    assert "95\\% percentile confidence intervals from 200 stratified bootstrap resamples" in text
    assert "resampled by sample id" in text
    assert "chosen on the validation split by maximising Youden's J" in text
    assert "Synthetic demo data" in text
    assert r"\label{tab:multimodal-results}" in latex_table(results)


def test_sequential_pairing_is_stated_as_not_linked_by_patient():
    results = make_results({"pairing": {"method": "sequential", "clinically_linked": False}})
    text = caption_of(latex_table(results))
    assert "in file order" in text and "not linked by patient" in text
    assert "Synthetic" not in text


@pytest.mark.parametrize(
    "timing_checked, statement",
    [(True, "note timing was checked"), (False, "note timing was not checked")],
)
def test_linked_notes_state_whether_their_timing_was_checked(timing_checked, statement):
    pairing = {"method": "id", "clinically_linked": True, "timing_checked": timing_checked}
    text = caption_of(latex_table(make_results({"pairing": pairing})))
    assert "by shared patient/stay id" in text and statement in text
    assert "not linked by patient" not in text


def test_a_run_without_pairing_record_says_so():
    text = caption_of(latex_table(make_results({})))
    assert "does not record how notes were paired" in text


# --------------------------------------------------------------------------- structure


def assert_structure(tex: str) -> None:
    stack = []
    for kind, name in re.findall(r"\\(begin|end)\{(\w+)\}", tex):
        if kind == "begin":
            stack.append(name)
        else:
            assert stack and stack.pop() == name, name
    assert not stack
    depth = 0
    for char in re.sub(r"\\[{}]", "", tex):
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0
    assert depth == 0
    spec, body = outer_tabular(tex)
    columns = spec_columns(spec)
    rows = [cells(line) for line in body if line.endswith(r"\\")]
    assert rows and all(row_width(row) == columns for row in rows)
    for rule in (r"\toprule", r"\midrule", r"\bottomrule"):
        assert tex.count(rule) == 1, rule
    assert r"\centering" in tex and r"\begin{table}" in tex


def test_the_table_is_well_formed_with_booktabs_rules(results):
    assert_structure(latex_table(results))


# --------------------------------------------------------------------------- files


def test_every_file_is_written_atomically_into_out_dir(results, tmp_path, monkeypatch):
    out_dir = tmp_path / "tables"
    paths = write_results_tables(results, out_dir)
    names = [CSV_FILENAME, TEX_FILENAME, SUBGROUPS_CSV_FILENAME]
    assert paths == [out_dir / name for name in names]
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(names)
    assert paths[1].read_text(encoding="utf-8") == latex_table(results)
    before = {path: path.read_bytes() for path in paths}

    def fail_halfway(frame, path, **kwargs):
        with open(path, "w") as handle:
            handle.write("model,model_na")
        raise OSError("disk full")

    changed = copy.deepcopy(results)
    changed["metrics"]["multimodal"]["auroc"] = 0.5
    monkeypatch.setattr(pd.DataFrame, "to_csv", fail_halfway)
    with pytest.raises(OSError, match="disk full"):
        write_results_tables(changed, out_dir)
    assert {path: path.read_bytes() for path in paths} == before
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(names)


# --------------------------------------------------------------------------- compiling


def compile_latex(directory, body: str) -> subprocess.CompletedProcess:
    (directory / "document.tex").write_text(body, encoding="utf-8")
    return subprocess.run(
        [ENGINES[0], "-interaction=nonstopmode", "-halt-on-error", "document.tex"],
        cwd=directory,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(not ENGINES, reason="no pdflatex or lualatex on PATH")
def test_the_table_compiles_in_a_minimal_document(results, tmp_path, monkeypatch):
    monkeypatch.setitem(DISPLAY_NAMES, "text_only", "Text_only 50% & {co} #1 ~x^")
    write_results_tables(results, tmp_path)
    run = compile_latex(
        tmp_path,
        "\\documentclass{article}\\usepackage{booktabs}\\begin{document}"
        f"\\input{{{TEX_FILENAME}}}\\end{{document}}\n",
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert (tmp_path / "document.pdf").stat().st_size > 0


@pytest.mark.skipif(not ENGINES, reason="no pdflatex or lualatex on PATH")
def test_the_tabular_fits_a_16_cm_thesis_text_block(results, tmp_path):
    tex = latex_table(results)
    start = tex.index(r"\small")
    tabular = tex[
        tex.index(r"\begin{tabular}{") : tex.rindex(r"\end{tabular}") + len(r"\end{tabular}")
    ]
    preamble = tex[start : tex.index(r"\makebox")]
    run = compile_latex(
        tmp_path,
        "\\documentclass{article}\\usepackage{booktabs}\\newsavebox\\measured\\begin{document}"
        f"\\sbox\\measured{{{preamble}{tabular}}}\\typeout{{TABLEWIDTH=\\the\\wd\\measured}}"
        "\\end{document}\n",
    )
    assert run.returncode == 0, run.stdout[-3000:]
    width = float(re.search(r"TABLEWIDTH=([\d.]+)pt", run.stdout).group(1))
    assert 300 < width <= THESIS_TEXT_WIDTH_PT
