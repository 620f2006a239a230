"""The main results table for a thesis: as CSV (every number unrounded) and as a LaTeX table.

Both are rendered from the results dict that ``multimodal_results.json`` holds, like the Markdown
table of ``report_findings.py``, so neither can disagree with the JSON. One row per model, in the
order of ``results["metrics"]``: AUROC and AUPRC with their bootstrap 95% CIs, Brier score, expected
calibration error, and at each model's validation-chosen threshold the threshold itself,
sensitivity and specificity (with CIs), PPV and NPV. A ratio with a zero denominator is ``None``
in the JSON; it is an empty cell in the CSV and "n/a" in LaTeX.

The LaTeX needs only ``booktabs``. With its four intervals written "0.812 (0.771--0.850)" on
one line, the table measures about 650 pt at ``\\small``, wider than any portrait page, so each
interval is set under its estimate: the table is then about 447 pt (15.7 cm) wide, inside the
16 cm text block of an A4 page with 2.5 cm margins. In a narrower block (the bare ``article``
class has 345 pt) it is centred and reaches equally into both margins.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from ..base.artifacts import save_text, write_atomically
from .evaluation import DEFAULT_CALIBRATION_BINS
from .report_subgroups import subgroup_frame
from .results import DISPLAY_NAMES
from .results_schema import Results
from .wording import pairing_phrase

CSV_FILENAME = "multimodal_results_table.csv"
TEX_FILENAME = "multimodal_results_table.tex"
SUBGROUPS_CSV_FILENAME = "multimodal_subgroups_table.csv"
TABLE_LABEL = "tab:multimodal-results"
DECIMALS = 3
# The metrics with a bootstrap interval; the others are point values only.
WITH_CI = ("auroc", "auprc", "sensitivity", "specificity")
FRAME_COLUMNS = [
    "model",
    "model_name",
    "auroc",
    "auroc_ci_low",
    "auroc_ci_high",
    "auprc",
    "auprc_ci_low",
    "auprc_ci_high",
    "brier_score",
    "expected_calibration_error",
    "threshold",
    "sensitivity",
    "sensitivity_ci_low",
    "sensitivity_ci_high",
    "specificity",
    "specificity_ci_low",
    "specificity_ci_high",
    "ppv",
    "npv",
]
# The LaTeX value columns, left to right; the header groups them at the threshold.
TEX_COLUMNS = (
    ("auroc", "AUROC"),
    ("auprc", "AUPRC"),
    ("brier_score", "Brier"),
    ("expected_calibration_error", "ECE"),
    ("threshold", "$t$"),
    ("sensitivity", "Sensitivity"),
    ("specificity", "Specificity"),
    ("ppv", "PPV"),
    ("npv", "NPV"),
)
# Wide enough for "Notes shuffled" on one line at \small; longer names wrap.
NAME_COLUMN_WIDTH = "2.2cm"

LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_LATEX_SPECIALS_RE = re.compile("|".join(re.escape(char) for char in LATEX_SPECIALS))


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters made literal (one pass, so no double escapes)."""
    return _LATEX_SPECIALS_RE.sub(lambda match: LATEX_SPECIALS[match.group()], str(text))


def results_table_frame(results: Results) -> pd.DataFrame:
    """The main results table as a DataFrame, numbers unrounded, exactly as in the results.

    Args:
        results: the dict of ``multimodal_results.json`` (``results.build_results``).

    Returns:
        One row per model, in ``results["metrics"]`` order, with the columns of
        ``FRAME_COLUMNS``: ``model`` (key), ``model_name`` (display name), then floats, NaN
        where the JSON has ``None`` (an undefined ratio). ``threshold`` is the model's
        validation-chosen threshold, and ``sensitivity``, ``specificity``, ``ppv`` and ``npv``
        are taken at it; ``*_ci_low``/``*_ci_high`` are the 95% bootstrap interval's ends.
    """
    rows = []
    for name, metrics in results["metrics"].items():
        chosen = metrics["at_validation_threshold"]
        intervals = results["confidence_intervals"][name]
        values = {
            "auroc": metrics["auroc"],
            "auprc": metrics["auprc"],
            "brier_score": metrics["brier_score"],
            "expected_calibration_error": metrics["expected_calibration_error"],
            "threshold": chosen["threshold"],
            "sensitivity": chosen["sensitivity"],
            "specificity": chosen["specificity"],
            "ppv": chosen["ppv"],
            "npv": chosen["npv"],
        }
        for metric in WITH_CI:
            values[f"{metric}_ci_low"], values[f"{metric}_ci_high"] = intervals[metric]
        rows.append({"model": name, "model_name": DISPLAY_NAMES.get(name, name), **values})
    frame = pd.DataFrame(rows, columns=FRAME_COLUMNS)
    numeric = FRAME_COLUMNS[2:]
    # A column holding only None would otherwise stay object-typed.
    frame[numeric] = frame[numeric].astype(float)
    return frame


def latex_table(results: Results) -> str:
    """The main results table as a complete LaTeX ``table`` float (needs only ``booktabs``).

    Numbers are rounded to 3 decimals; each 95% CI is set under its estimate as
    "(0.771--0.850)"; an undefined ratio reads "n/a". The caption states the test size and
    positive rate, how notes were paired (and whether their timing was checked), the bootstrap
    behind the intervals and how the threshold was chosen, and opens with a warning when the
    data are synthetic. Label: ``tab:multimodal-results``.
    """
    frame = results_table_frame(results)
    spec = f"p{{{NAME_COLUMN_WIDTH}}}" + "c" * len(TEX_COLUMNS)
    # Columns before the threshold do not depend on it; it and those after it do.
    ranking = [key for key, _ in TEX_COLUMNS].index("threshold")
    at_threshold = len(TEX_COLUMNS) - ranking
    group_header = (
        rf" & \multicolumn{{{ranking}}}{{c}}{{Discrimination and calibration}}"
        rf" & \multicolumn{{{at_threshold}}}{{c}}{{At threshold $t$ chosen on validation}} \\"
    )
    group_rules = (
        rf"\cmidrule(lr){{2-{ranking + 1}}}\cmidrule(lr){{{ranking + 2}-{len(TEX_COLUMNS) + 1}}}"
    )
    lines = [
        r"\begin{table}[htbp]",
        r"\centering",
        rf"\caption[Test-split performance of every model]{{{caption(results, frame)}}}",
        rf"\label{{{TABLE_LABEL}}}",
        r"\smallskip",
        r"\small",
        r"\setlength{\tabcolsep}{3pt}",
        # Centred on the text block even where wider than it (into both margins, not the right).
        r"\makebox[\linewidth][c]{%",
        rf"\begin{{tabular}}{{{spec}}}",
        r"\toprule",
        group_header,
        group_rules,
        "Model & " + " & ".join(header for _, header in TEX_COLUMNS) + r" \\",
        " & "
        + " & ".join(r"(95\% CI)" if key in WITH_CI else "" for key, _ in TEX_COLUMNS)
        + r" \\",
        r"\midrule",
    ]
    for index, row in enumerate(frame.itertuples(index=False)):
        if index:
            lines.append(r"\addlinespace")
        cells = [tex_cell(row, key) for key, _ in TEX_COLUMNS]
        lines.append(
            rf"\raggedright {latex_escape(row.model_name)} & " + " & ".join(cells) + r" \\"
        )
    lines += [r"\bottomrule", r"\end{tabular}}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def tex_number(value: float) -> str:
    """A table number to DECIMALS places; "n/a" for an undefined ratio."""
    return "n/a" if pd.isna(value) else f"{value:.{DECIMALS}f}"


def tex_cell(row, key: str) -> str:
    """One value, with its interval beneath it in a one-column inner tabular if it has one."""
    estimate = tex_number(getattr(row, key))
    if key not in WITH_CI:
        return estimate
    low, high = getattr(row, f"{key}_ci_low"), getattr(row, f"{key}_ci_high")
    return (
        rf"\begin{{tabular}}[t]{{@{{}}c@{{}}}}{estimate}\\"
        rf"({tex_number(low)}--{tex_number(high)})\end{{tabular}}"
    )


def caption(results: Results, frame: pd.DataFrame) -> str:
    """The LaTeX caption: test size, pairing, CI method and the threshold rule, so the table
    can be read without the text around it."""
    meta = results.get("meta") or {}
    positive_rate = next(iter(results["metrics"].values()))["positive_rate"]
    parts = []
    if meta.get("demo") or meta.get("synthetic"):
        parts.append(r"\textbf{Synthetic demo data, not clinical evidence.}")
    parts.append(
        f"Performance of every model on the test split ({results['test_samples']:,} samples, "
        f"positive rate {positive_rate:.{DECIMALS}f})."
    )
    parts.append(pairing_sentence(results["pairing"]))
    bootstrap = results["bootstrap"]
    parts.append(
        f"Values in parentheses are {latex_escape(bootstrap['interval'])} confidence intervals "
        f"from {bootstrap['resamples']:,} "
        f"{'stratified ' if bootstrap.get('stratified') else ''}bootstrap resamples of the test "
        f"split, resampled by {latex_escape(bootstrap['resampled_by'])}."
    )
    parts.append(
        "$t$ is each model's threshold, chosen on the validation split by maximising Youden's J "
        "(sensitivity + specificity $-$ 1); sensitivity, specificity, PPV and NPV are at $t$. "
        f"Brier: Brier score; ECE: expected calibration error ({DEFAULT_CALIBRATION_BINS} "
        "equal-width bins)."
    )
    if frame[["ppv", "npv"]].isna().to_numpy().any():
        parts.append("n/a: undefined, as no test sample fell on that side of $t$.")
    return " ".join(parts)


def pairing_sentence(pairing: dict) -> str:
    """How notes met vitals, in the terms an examiner needs: linked by patient or not, and for
    linked notes whether their chart time was checked against the prediction time."""
    method = pairing.get("method")
    phrase = latex_escape(pairing_phrase(pairing))
    if method in ("random", "sequential"):
        return (
            f"Notes were paired with the vital-sign samples {phrase}: not linked by patient, so "
            "each note describes someone other than the patient whose vitals it is paired with."
        )
    if method == "id" and pairing.get("timing_checked"):
        return (
            f"Notes were linked to the samples {phrase}, and note timing was checked: only notes "
            "charted at or before each sample's prediction time were used."
        )
    if method == "id":
        return (
            f"Notes were linked to the samples {phrase}, but note timing was not checked: a note "
            "written after the outcome may have been used."
        )
    return "The data file does not record how notes were paired with the samples."


def write_results_tables(results: Results, out_dir: str | os.PathLike) -> list[Path]:
    """Write ``multimodal_results_table.csv`` and ``.tex``, and the subgroups' CSV
    (``multimodal_subgroups_table.csv``), into ``out_dir``, each atomically.

    All are rendered before any is written, so bad results leave every file untouched.
    Returns the three paths: the results CSV, its LaTeX, the subgroups' CSV.
    """
    out_dir = Path(out_dir)
    frame = results_table_frame(results)
    tex = latex_table(results)
    subgroups = subgroup_frame(results)
    csv_path = write_atomically(
        out_dir / CSV_FILENAME, lambda tmp: frame.to_csv(tmp, index=False, na_rep="")
    )
    tex_path = save_text(out_dir / TEX_FILENAME, tex)
    subgroups_path = write_atomically(
        out_dir / SUBGROUPS_CSV_FILENAME,
        lambda tmp: subgroups.to_csv(tmp, index=False, na_rep=""),
    )
    return [csv_path, tex_path, subgroups_path]
