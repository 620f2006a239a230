#!/usr/bin/env python3
"""Clinical notes -> features + MiniLM embeddings -> paired with your vitals -> multimodal_data.npz.

Edit the constants below or override them on the command line (``--help`` lists every flag).
Quick test: ``--split "train[:1000]"``. No data of your own yet: ``--demo``.
"""

from __future__ import annotations

import argparse
import sys
import time

from multimodal_deterioration.base.settings import default_of
from multimodal_deterioration.preparation.linkage import LinkageRule
from multimodal_deterioration.preparation.run import PreparationConfig

# ---- Defaults: the reference setup, declared once in the config dataclasses (--help prints ----
# ---- the values). Assign a value here to change a default, e.g. SPLIT = "train[:1000]". -------
DATASET = default_of(PreparationConfig, "dataset")  # --dataset: Hugging Face dataset id
SPLIT = default_of(PreparationConfig, "split")  # --split: e.g. "train[:1000]" for a quick test
NOTES_FILE = default_of(PreparationConfig, "notes_file")  # --notes: a local file instead
TEXT_COLUMN = default_of(PreparationConfig, "text_column")  # --text-column
ID_COLUMN = default_of(PreparationConfig, "id_column")  # --id-column: ids as in ids_{split}
TIME_COLUMN = default_of(LinkageRule, "time_column")  # --time-column: note chart time
NOTE_WINDOW_HOURS = default_of(LinkageRule, "window_hours")  # --note-window-hours
CATEGORY_COLUMN = default_of(LinkageRule, "category_column")  # --category-column
EXCLUDE_CATEGORIES = ()  # --exclude-category (repeatable), e.g. ("Discharge summary",)
NOTE_AGGREGATION = default_of(LinkageRule, "aggregation")  # --note-aggregation: mean | last
ALLOW_UNTIMED_NOTES = default_of(LinkageRule, "allow_untimed_notes")  # --allow-untimed-notes
VITALS_FILE = default_of(PreparationConfig, "vitals_file")  # --vitals
OUT_DIR = "."  # --out-dir
MODEL = default_of(PreparationConfig, "model")  # --model: packaged offline by default
TEXT_STRATEGY = default_of(PreparationConfig, "text_strategy")  # --text-strategy
PAIRING = default_of(PreparationConfig, "pairing")  # --pairing: auto | id | random | sequential
SEED = default_of(PreparationConfig, "seed")  # --seed: random pairing
BATCH_SIZE = default_of(PreparationConfig, "batch_size")  # --batch-size: None = by device
WORKERS = default_of(PreparationConfig, "workers")  # --workers: None = every available core
DEVICE = "auto"  # --device: auto | cpu | cuda
DEMO_PATIENTS = default_of(PreparationConfig, "demo_patients")  # --demo-patients


def parse_args(argv) -> tuple[argparse.Namespace, PreparationConfig]:
    from multimodal_deterioration.base.cli import (
        add_common_flags,
        add_setting_flags,
        build_settings,
    )
    from multimodal_deterioration.preparation.run import demo_linkage_columns

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    notes = {
        "dataset": DATASET,
        "split": SPLIT,
        "notes_file": NOTES_FILE,
        "text_column": TEXT_COLUMN,
        "id_column": ID_COLUMN,
    }
    add_setting_flags(parser.add_argument_group("notes"), PreparationConfig, notes, list(notes))
    add_setting_flags(parser, PreparationConfig, {"vitals_file": VITALS_FILE}, ["vitals_file"])
    add_common_flags(parser, OUT_DIR, DEVICE)
    embedding = {
        "model": MODEL,
        "text_strategy": TEXT_STRATEGY,
        "batch_size": BATCH_SIZE,
        "workers": WORKERS,
        "force": False,
    }
    group = parser.add_argument_group("embeddings")
    add_setting_flags(group, PreparationConfig, embedding, list(embedding))
    pairing = {"pairing": PAIRING, "seed": SEED}
    group = parser.add_argument_group("pairing")
    add_setting_flags(group, PreparationConfig, pairing, list(pairing))
    group = parser.add_argument_group(
        "linked notes (pairing by id): which notes may describe a sample, and how they combine"
    )
    linkage = {
        "time_column": TIME_COLUMN,
        "window_hours": NOTE_WINDOW_HOURS,
        "category_column": CATEGORY_COLUMN,
        "aggregation": NOTE_AGGREGATION,
        "allow_untimed_notes": ALLOW_UNTIMED_NOTES,
    }
    add_setting_flags(group, LinkageRule, linkage, list(linkage))
    group.add_argument(
        "--exclude-category",
        dest="exclude_categories",
        action="append",
        default=list(EXCLUDE_CATEGORIES),
        metavar="NAME",
        help="never use notes of this category (case-insensitive; repeatable), e.g. "
        "'Discharge summary'",
    )
    demo = {"demo": False, "demo_patients": DEMO_PATIENTS}
    add_setting_flags(parser.add_argument_group("demo"), PreparationConfig, demo, list(demo))
    args = parser.parse_args(argv)
    args.exclude_categories = tuple(args.exclude_categories)
    columns = {}
    if args.demo:
        columns = demo_linkage_columns(
            args.time_column, args.allow_untimed_notes, args.category_column
        )
    rule = build_settings(parser, LinkageRule, args, **columns)
    return args, build_settings(parser, PreparationConfig, args, linkage=rule)


def main(argv=None) -> int:
    args, config = parse_args(argv)
    from multimodal_deterioration.base import artifacts
    from multimodal_deterioration.base.cli import StageLog, print_footer, silence_library_progress
    from multimodal_deterioration.base.devices import resolve_device
    from multimodal_deterioration.base.progress import shows_progress_bars
    from multimodal_deterioration.preparation.run import next_command, prepare, print_summary

    started = time.perf_counter()
    if args.quiet or not shows_progress_bars():
        silence_library_progress()
    log = StageLog(enabled=not args.quiet)
    out_dir = artifacts.ensure_output_dir(args.out_dir)
    outcome = prepare(config, out_dir, resolve_device(args.device), log)
    print_summary(outcome)
    print_footer(log, time.perf_counter() - started, list(outcome.paths.values()))
    print(next_command(outcome, args.out_dir))
    return 0


if __name__ == "__main__":
    from multimodal_deterioration.base.cli import run_cli

    sys.exit(
        run_cli(
            main,
            None,
            "run the same command again to resume: finished embedding batches are cached",
        )
    )
