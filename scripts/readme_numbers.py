#!/usr/bin/env python3
"""Write the README's published numbers from real runs and benchmark records, never by hand.

The README holds generated blocks, each between ``<!-- NAME:begin -->`` and
``<!-- NAME:end -->``:

- ``demo-results``: the honest demo (every model's AUROC, the verdict and its attribution, ΔBrier
  and IDI, calibration, the decision curve), from its ``multimodal_results.json``;
- ``demo-cohort``: how many notes the honest demo used and excluded, and how many samples had
  none, from its ``meta``;
- ``demo-subgroups``: the honest demo's results by note availability and recency, the report's
  own table;
- ``demo-leak``: the same demo with ``--allow-untimed-notes`` beside it;
- ``verdict-calibration``: ``benchmarks/benchmark_verdict_calibration.py``'s table, from its JSON;
- ``training-defaults``: ``benchmarks/benchmark_training_defaults.py``'s table, from its JSON.

A slow test renders the demo blocks from a fresh run of the README's commands and fails when the
README disagrees.

    python scripts/readme_numbers.py --run /tmp/demo-runs        # run the four demo commands
    python scripts/readme_numbers.py --honest demo --leaked demo-leak   # from finished runs
    python scripts/readme_numbers.py --calibration benchmarks/results/verdict_calibration.json \
        --training-defaults benchmarks/results/training_defaults.json
    add --check to compare only
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from marked_blocks import replace_block

REPO_ROOT = Path(__file__).resolve().parents[1]
README = REPO_ROOT / "README.md"
# The README's demo commands, with the output folder as a placeholder.
HONEST_COMMANDS = (
    ["download_and_prepare_clinical_notes.py", "--demo", "--out-dir", "{honest}"],
    ["train_multimodal_lstm.py", "--data", "{honest}/multimodal_data.npz", "--out-dir", "{honest}"],
)
LEAK_COMMANDS = (
    [
        "download_and_prepare_clinical_notes.py",
        "--demo",
        "--allow-untimed-notes",
        "--out-dir",
        "{leaked}",
    ],
    ["train_multimodal_lstm.py", "--data", "{leaked}/multimodal_data.npz", "--out-dir", "{leaked}"],
)
TABLE_MODELS = {
    "multimodal": "Multimodal (vitals + notes)",
    "vital_only": "Vital-only",
    "notes_shuffled": "Notes shuffled within split",
    "notes_shuffled_within_class": "Notes shuffled within class",
}


def fixed(value: float) -> str:
    return f"{value:.3f}"


def signed(value: float) -> str:
    return f"{value:+.3f}"


def span(ci) -> str:
    return f"{ci[0]:.3f} to {ci[1]:.3f}"


def seeds_phrase(results: dict) -> str:
    seeds = results["seeds"]["seeds"]
    return f"{len(seeds)} seeds ({', '.join(map(str, seeds))})"


def honest_block(results: dict) -> str:
    """The ``demo-results`` block from the honest demo run's results."""
    seeds, models = results["seeds"], results["comparisons"]["models"]
    ci = results["confidence_intervals"]
    added, controls = results["added_value"], results["controls"]
    vitals = added["over_vital_only"]
    network = results["comparisons"]["pairs"]["notes_shuffled_minus_vital_only"]["auroc"]
    main = seeds["main_seed"]
    rows = [
        f"| {label} | {fixed(models[name]['auroc']['estimate'])} "
        f"({span(models[name]['auroc']['ci'])}) | {fixed(results['metrics'][name]['auroc'])} "
        f"({span(ci[name]['auroc'])}) |"
        for name, label in TABLE_MODELS.items()
    ]
    within = controls["notes_shuffled_within_class"]["retained_fraction"]
    kept = "none" if within is not None and within <= 0 else f"{within:.0%}" if within else "n/a"
    recalibrated = {
        name: results["metrics"][name]["recalibrated"].get("test") for name in TABLE_MODELS
    }
    ece = ", ".join(
        f"{fixed(recalibrated[name]['ece_before'])} to {fixed(recalibrated[name]['ece_after'])} "
        f"({label})"
        for name, label in (("multimodal", "multimodal"), ("vital_only", "vital-only"))
    )
    delong = results["statistics"]["delong_multimodal_vs_vital_only"]
    leak = "raises" if controls["label_leak_suspected"] else "raises no"
    lines = [
        f"What the demo run gives with the default settings ({results['test_samples']} test "
        f"samples, {seeds_phrase(results)}):",
        "",
        f"| model | test AUROC, mean over seeds (95% CI over seeds and test rows) | main seed "
        f"{main} (95% CI over test rows) |",
        "|---|---|---|",
        *rows,
        "",
        f"The notes' gain, the multimodal model minus the same network trained on notes shuffled "
        f"within each split, is {signed(added['gain_auroc'])} (95% CI "
        f"{span(added['gain_auroc_ci'])}; the multimodal model was better in "
        f"{added['probability_of_outperforming']:.0%} of seed and test resamples). Read against "
        f"`--min-gain {added['min_gain_auroc']:g}` the verdict is `{added['verdict']}`: "
        f'"{added["statement"]}". Against vital-only the difference is '
        f"{signed(vitals['gain_auroc'])} (95% CI {span(vitals['gain_auroc_ci'])}), while the "
        f"same network on shuffled notes differs from vital-only by {signed(network['estimate'])} "
        f"(95% CI {span(network['ci'])}); the attribution is `{added['attribution']}`: "
        f'"{added["attribution_statement"]}" The within-class shuffle keeps {kept} of the '
        f"notes' gain, and the run {leak} leak warning. On probabilities recalibrated on the "
        f"validation split, ΔBrier against vital-only is {signed(added['delta_brier']['value'])} "
        f"(95% CI {span(added['delta_brier']['ci'])}) and the IDI "
        f"{signed(added['idi']['value'])} (95% CI {span(added['idi']['ci'])}); on the raw, "
        f"class-weighted outputs they would read {signed(added['delta_brier_raw']['value'])} and "
        f"{signed(added['idi_raw']['value'])}, which overstates the change. Platt recalibration "
        f"brings the main seed's test ECE from {ece}; on the decision curve (recalibrated "
        f"probabilities) the multimodal model's net benefit is above the vital-only model's at "
        f"threshold probabilities of {results['decision_curve']['multimodal_better_thresholds']}. "
        f"Conditional on the main seed's two fitted networks alone, DeLong's test gives "
        f"p = {delong['p_value']:.2g} for multimodal against vital-only.",
    ]
    return "\n".join(lines)


def links(results: dict) -> tuple[int, int]:
    """Note-sample links used, and those excluded as charted after the prediction time."""
    pairing = results["meta"]["pairing"]
    return (
        sum(pairing["eligible_links"].values()),
        sum(pairing["notes_after_prediction_time"].values()),
    )


def cohort_block(results: dict) -> str:
    """The ``demo-cohort`` block: the demo's notes and the samples without one, in words."""
    pairing = results["meta"]["pairing"]
    used, after = links(results)
    samples = sum(pairing["samples"].values())
    without = sum(pairing["samples_without_eligible_note"].values())
    several = sum(pairing["samples_with_several_notes"].values())
    test = results["subgroups"]["by"]["availability"]["without a note"]
    return (
        f"Of the {samples:,} samples, {without:,} ({without / samples:.0%}) have no note charted "
        f"before their prediction time ({test['samples']} of the {results['test_samples']} test "
        f"samples) and get a zero note vector; {several:,} have several, whose embeddings are "
        f"averaged. {used:,} note-sample links are used, and {after:,} notes charted after the "
        "prediction time are excluded and counted."
    )


def leak_block(honest: dict, leaked: dict) -> str:
    """The ``demo-leak`` block: the honest and the leaked demo side by side."""
    runs = {"honest": honest, "leaked": leaked}

    def model_row(label: str, name: str) -> str:
        cells = [
            f"{fixed(r['comparisons']['models'][name]['auroc']['estimate'])} "
            f"({span(r['comparisons']['models'][name]['auroc']['ci'])})"
            for r in runs.values()
        ]
        return f"| {label} | {' | '.join(cells)} |"

    def used(results: dict) -> str:
        eligible, after = links(results)
        excluded = f"{after:,} after the prediction time excluded" if after else "none excluded"
        return f"{eligible:,} ({excluded})"

    def kept(results: dict) -> str:
        fraction = results["controls"]["notes_shuffled_within_class"]["retained_fraction"]
        if fraction is None:
            return "no notes gain to share"
        return f"keeps {'none' if fraction <= 0 else f'{fraction:.0%}'} of the notes' gain"

    def warning(results: dict) -> str:
        if not results["controls"]["label_leak_suspected"]:
            return "none"
        fraction = results["controls"]["notes_shuffled_within_class"]["retained_fraction"]
        return f"`WARNING: notes shuffled within each class keep {fraction:.0%} of the notes' gain ...`"

    text_only = [
        f"{fixed(r['metrics']['text_only']['auroc'])} ({span(r['confidence_intervals']['text_only']['auroc'])})"
        for r in runs.values()
    ]
    rows = [
        f"| {honest['test_samples']} test samples, {seeds_phrase(honest)} | honest (by id and "
        "time) | `--allow-untimed-notes` (leaked) |",
        "|---|---|---|",
        f"| note-sample links used | {used(honest)} | {used(leaked)} |",
        model_row("Multimodal AUROC, mean over seeds", "multimodal"),
        model_row("Vital-only AUROC, mean over seeds", "vital_only"),
        model_row("Notes shuffled within split, mean over seeds", "notes_shuffled"),
        f"| Text-only AUROC (main seed) | {' | '.join(text_only)} |",
        f"| Notes shuffled within class | {kept(honest)} | {kept(leaked)} |",
        f"| verdict, attribution | `{honest['added_value']['verdict']}`, "
        f"`{honest['added_value']['attribution']}` | `{leaked['added_value']['verdict']}`, "
        f"`{leaked['added_value']['attribution']}` |",
        f"| Leak warning | {warning(honest)} | {warning(leaked)} |",
    ]
    gains = {name: r["added_value"]["gain_auroc"] for name, r in runs.items()}
    return "\n".join(
        [
            *rows,
            "",
            f'The leaked run "finds" a notes gain of {signed(gains["leaked"])} instead of '
            f"{signed(gains['honest'])}, the text alone looks like a far better predictor, and "
            + (
                "the within-class control raises the leak warning."
                if leaked["controls"]["label_leak_suspected"]
                else "yet the within-class control does not raise the leak warning."
            ),
        ]
    )


def load_results(folder: Path) -> dict:
    return json.loads((folder / "multimodal_results.json").read_text(encoding="utf-8"))


def run_demo_commands(work: Path) -> tuple[Path, Path]:
    """The README's four demo commands, as written, with outputs under ``work``."""
    folders = {"honest": work / "demo", "leaked": work / "demo-leak"}
    for command in (*HONEST_COMMANDS, *LEAK_COMMANDS):
        argv = [part.format(**{k: str(v) for k, v in folders.items()}) for part in command]
        print("$ python " + " ".join(argv), flush=True)
        subprocess.run([sys.executable, str(REPO_ROOT / argv[0]), *argv[1:], "--quiet"], check=True)
    return folders["honest"], folders["leaked"]


def benchmark_module(name: str):
    """A benchmark script, for the function that renders its own table."""
    path = REPO_ROOT / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def subgroups_block(results: dict) -> str:
    """The ``demo-subgroups`` block: the report's subgroup table and what may be read from it."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))  # run as a script, the package is beside this folder
    from multimodal_deterioration.evidence.report_subgroups import subgroup_claims, subgroup_table

    claims = subgroup_claims(results)
    reading = (
        "Intervals that exclude zero: " + "; ".join(claims) + "."
        if claims
        else "No subgroup difference has an interval that excludes zero."
    )
    return (
        f"By note availability and recency ({results['test_samples']} test samples; the same "
        "two-level bootstrap, restricted to each subgroup):\n\n"
        f"{subgroup_table(results)}\n\n{reading}"
    )


def calibration_block(record: dict) -> str:
    """The ``verdict-calibration`` block: the calibration benchmark's own tables."""
    return benchmark_module("benchmark_verdict_calibration").markdown(record)


def training_defaults_block(record: dict) -> str:
    """The ``training-defaults`` block: the training-cost benchmark's own table."""
    return benchmark_module("benchmark_training_defaults").markdown(record)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, metavar="DIR", help="run the demo commands in DIR")
    parser.add_argument("--honest", type=Path, help="folder of a finished honest demo run")
    parser.add_argument(
        "--leaked", type=Path, help="folder of a finished --allow-untimed-notes run"
    )
    parser.add_argument(
        "--calibration", type=Path, metavar="JSON", help="benchmark_verdict_calibration.py output"
    )
    parser.add_argument(
        "--training-defaults",
        type=Path,
        metavar="JSON",
        help="benchmark_training_defaults.py output",
    )
    parser.add_argument(
        "--check", action="store_true", help="only compare; exit 1 when the README differs"
    )
    args = parser.parse_args(argv)
    blocks = {}
    if args.run:
        args.honest, args.leaked = run_demo_commands(args.run)
    if args.honest or args.leaked:
        if not (args.honest and args.leaked):
            parser.error("give both --honest DIR and --leaked DIR")
        honest, leaked = load_results(args.honest), load_results(args.leaked)
        blocks["demo-results"] = honest_block(honest)
        blocks["demo-subgroups"] = subgroups_block(honest)
        blocks["demo-cohort"] = cohort_block(honest)
        blocks["demo-leak"] = leak_block(honest, leaked)
    if args.calibration:
        blocks["verdict-calibration"] = calibration_block(json.loads(args.calibration.read_text()))
    if args.training_defaults:
        record = json.loads(args.training_defaults.read_text())
        blocks["training-defaults"] = training_defaults_block(record)
    if not blocks:
        parser.error(
            "nothing to write: give --run, --honest/--leaked, --calibration or --training-defaults"
        )
    readme = README.read_text(encoding="utf-8")
    updated = readme
    for name, body in blocks.items():
        updated = replace_block(updated, name, body)
    if args.check:
        print("README numbers match" if updated == readme else "README numbers differ")
        return 0 if updated == readme else 1
    README.write_text(updated, encoding="utf-8")
    print(
        f"README.md blocks {', '.join(blocks)} "
        + ("rewritten" if updated != readme else "already current")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
