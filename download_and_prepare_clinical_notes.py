#!/usr/bin/env python3
"""Clinical notes -> features + MiniLM embeddings -> paired with your vitals -> multimodal_data.npz.

Edit the constants below or override them on the command line (``--help`` lists every flag).
Quick test: ``--split "train[:1000]"``. No data of your own yet: ``--demo``.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

# ---- Defaults: the reference setup. Edit here, or override with the flag named beside each. ----
DATASET = "AGBonnet/augmented-clinical-notes"  # --dataset: Hugging Face dataset id
SPLIT = "train"  # --split: e.g. "train[:1000]" for a quick test
NOTES_FILE = None  # --notes: a local .jsonl/.json/.csv/.parquet instead of the Hub dataset
TEXT_COLUMN = "note"  # --text-column
ID_COLUMN = None  # --id-column: note column holding the ids of ids_{split} in the vitals
TIME_COLUMN = None  # --time-column: note chart time; only notes charted by times_{split} are used
NOTE_WINDOW_HOURS = None  # --note-window-hours: also drop notes older than this before the prediction
CATEGORY_COLUMN = None  # --category-column: note category, for --exclude-category
EXCLUDE_CATEGORIES = ()  # --exclude-category (repeatable), e.g. ("Discharge summary",)
NOTE_AGGREGATION = "mean"  # --note-aggregation: mean | last, over a sample's eligible notes
ALLOW_UNTIMED_NOTES = False  # --allow-untimed-notes: several notes per id without chart times
VITALS_FILE = "processed_data.npz"  # --vitals
OUT_DIR = "."  # --out-dir
MODEL = "sentence-transformers/all-MiniLM-L6-v2"  # --model: packaged offline by default
TEXT_STRATEGY = "key-sentences"  # --text-strategy: key-sentences (reference) | chunk-mean
PAIRING = "auto"  # --pairing: auto | id | random | sequential
SEED = 42  # --seed: random pairing
BATCH_SIZE = None  # --batch-size: notes per embedding batch (one cache shard each); None: 64 on CPU, 256 on CUDA
WORKERS = None  # --workers: processes for sentence splitting and features; None: every available core
DEVICE = "auto"  # --device: auto | cpu | cuda
DEMO_PATIENTS = 2000  # --demo-patients

OUTPUT_FILES = {
    "raw_notes": "clinical_notes_raw.parquet",
    "features": "clinical_features.csv",
    "embeddings": "clinical_embeddings.npy",
    "multimodal": "multimodal_data.npz",
}
DEMO_INPUT_DIR = "demo_inputs"


def parse_args(argv):
    from multimodal_deterioration.devices import DEVICE_CHOICES
    from multimodal_deterioration.embeddings import TEXT_STRATEGIES
    from multimodal_deterioration.linkage import AGGREGATIONS
    from multimodal_deterioration.pairing import PAIRING_METHODS

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_argument_group("notes")
    source.add_argument(
        "--dataset",
        default=DATASET,
        help="Hugging Face dataset id of the notes (default: %(default)s)",
    )
    source.add_argument(
        "--split",
        default=SPLIT,
        help="split or slice to load, e.g. 'train[:1000]'; also slices --notes (default: %(default)s)",
    )
    source.add_argument(
        "--notes",
        default=NOTES_FILE,
        metavar="FILE",
        help="local .jsonl/.json/.csv/.parquet notes in the same schema, instead of the Hub",
    )
    source.add_argument(
        "--text-column",
        default=TEXT_COLUMN,
        help="column holding the note text (default: %(default)s)",
    )
    source.add_argument(
        "--id-column",
        default=ID_COLUMN,
        help="note column with the ids used in ids_{split} of the vitals, for pairing by id",
    )
    parser.add_argument(
        "--vitals",
        default=VITALS_FILE,
        metavar="FILE",
        help="your vital-sign file, X_/y_/ids_{train,val,test} (default: %(default)s)",
    )
    parser.add_argument(
        "--out-dir",
        default=OUT_DIR,
        help="where every output is written (default: current directory)",
    )
    embedding = parser.add_argument_group("embeddings")
    embedding.add_argument(
        "--model",
        default=MODEL,
        help="sentence-transformers model name or local directory (default: the packaged %(default)s)",
    )
    embedding.add_argument(
        "--text-strategy",
        default=TEXT_STRATEGY,
        choices=TEXT_STRATEGIES,
        help="key-sentences: up to 10 clinical sentences within the model's token limit (256 for "
        "the default MiniLM; reference); chunk-mean: the whole note in model-length chunks, "
        "mean-pooled",
    )
    embedding.add_argument(
        "--batch-size",
        type=int,
        default=BATCH_SIZE,
        help="notes per embedding batch and cache shard (default: 64 on CPU, 256 on CUDA, "
        "where larger batches are faster; the vectors do not depend on it)",
    )
    embedding.add_argument(
        "--workers",
        type=int,
        default=WORKERS,
        help="processes that split notes into sentences and extract features (default: every "
        "available core; the result does not depend on it)",
    )
    embedding.add_argument(
        "--device",
        default=DEVICE,
        choices=DEVICE_CHOICES,
        help="auto uses CUDA when available (default: %(default)s)",
    )
    embedding.add_argument(
        "--force",
        action="store_true",
        help="ignore the embedding cache and encode every note again",
    )
    pairing = parser.add_argument_group("pairing")
    pairing.add_argument(
        "--pairing",
        default=PAIRING,
        choices=PAIRING_METHODS,
        help="auto: by id when both sides have ids, else random (default: %(default)s)",
    )
    pairing.add_argument(
        "--seed", type=int, default=SEED, help="seed of the random pairing (default: %(default)s)"
    )
    linked = parser.add_argument_group(
        "linked notes (pairing by id): which notes may describe a sample, and how they combine"
    )
    linked.add_argument(
        "--time-column",
        default=TIME_COLUMN,
        help="note column with the chart time (datetime or number); a note is used for a sample "
        "only if charted at or before its prediction time, times_{split} in the vitals",
    )
    linked.add_argument(
        "--note-window-hours",
        type=float,
        default=NOTE_WINDOW_HOURS,
        metavar="H",
        help="also drop notes charted more than H hours before the prediction time (numeric "
        "times: H in their unit)",
    )
    linked.add_argument(
        "--category-column",
        default=CATEGORY_COLUMN,
        help="note column with the note category, for --exclude-category",
    )
    linked.add_argument(
        "--exclude-category",
        action="append",
        default=list(EXCLUDE_CATEGORIES),
        metavar="NAME",
        help="never use notes of this category (case-insensitive; repeatable), e.g. "
        "'Discharge summary'",
    )
    linked.add_argument(
        "--note-aggregation",
        default=NOTE_AGGREGATION,
        choices=AGGREGATIONS,
        help="a sample's text vector: the L2-normalised mean of its eligible notes' embeddings, "
        "or the most recent note's (default: %(default)s)",
    )
    linked.add_argument(
        "--allow-untimed-notes",
        action="store_true",
        default=ALLOW_UNTIMED_NOTES,
        help="link several notes per id without chart times; only if every note was written "
        "before the prediction time (outputs then say timing was not checked)",
    )
    demo = parser.add_argument_group("demo")
    demo.add_argument(
        "--demo",
        action="store_true",
        help="build a synthetic linked cohort (vitals + notes) and run the whole pipeline on it",
    )
    demo.add_argument(
        "--demo-patients",
        type=int,
        default=DEMO_PATIENTS,
        help="patients in the demo cohort (default: %(default)s)",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bars or stage headers; errors and the summary only",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    args = parser.parse_args(argv)
    if args.batch_size is not None and args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be at least 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    from multimodal_deterioration import artifacts, demo
    from multimodal_deterioration.cli import StageLog
    from multimodal_deterioration.devices import resolve_device
    from multimodal_deterioration.embeddings import (
        CACHE_DIR_NAME,
        default_batch_size,
        embed_notes,
        load_embedding_model,
        truncation_summary,
    )
    from multimodal_deterioration.features import available_cores, extract_features, split_notes
    from multimodal_deterioration.multimodal_data import assemble, save_multimodal_data
    from multimodal_deterioration.notes import open_notes
    from multimodal_deterioration.pairing import pair_notes_with_vitals, resolve_method
    from multimodal_deterioration.vitals import load_vitals

    started = time.perf_counter()
    log = StageLog(enabled=not args.quiet)
    out_dir = artifacts.ensure_output_dir(args.out_dir)
    device = resolve_device(args.device)
    if args.demo:
        with log.stage("Demo: writing a synthetic linked cohort"):
            inputs = demo.write_demo_inputs(out_dir / DEMO_INPUT_DIR, n_patients=args.demo_patients)
            args.notes, args.vitals = str(inputs.notes_path), str(inputs.vitals_path)
            args.id_column = demo.DEMO_NOTES_ID_COLUMN
            if args.time_column is None and not args.allow_untimed_notes:
                args.time_column = demo.DEMO_TIME_COLUMN
            args.category_column = args.category_column or demo.DEMO_CATEGORY_COLUMN
            log.say(
                f"SYNTHETIC DEMO DATA: {inputs.n_patients} patients -> {inputs.vitals_path}, {inputs.notes_path}"
            )

    with log.stage("Vitals: loading and checking"):
        vitals = load_vitals(args.vitals)
        sizes = {name: len(split) for name, split in vitals.splits.items()}
        log.say(
            f"{args.vitals}: {sizes}, {vitals.n_timesteps} steps x {vitals.n_features} features, ids: {'yes' if vitals.has_ids else 'no'}, prediction times: {'yes' if vitals.has_times else 'no'}"
        )

    with log.stage("Notes: loading"):
        source = open_notes(
            args.dataset,
            args.split,
            args.text_column,
            args.id_column,
            notes_file=args.notes,
            other_columns=linkage_columns(args),
        )
        method = resolve_method(args.pairing, vitals.has_ids, source.id_column is not None)
        log.say(f"{source.source} [{source.split}]: {len(source)} notes; pairing will be {method!r}")

    # Pairing reads only ids, times and categories: a pairing that cannot work fails, and unused
    # notes are dropped, before the slow steps.
    with log.stage("Pairing notes with vitals"):
        pairing, notes = pair_notes_with_vitals(
            vitals, source, method, args.seed, linkage_rule(args)
        )
        if len(notes) < len(source):
            log.say(f"{len(notes)} of {len(source)} notes are used by some sample; only they go on")
        for warning in pairing.warnings:
            print(f"warning: {warning}", file=sys.stderr)

    with log.stage("Features: keyword + negation-aware"):
        workers = args.workers or available_cores()
        sentences = split_notes(notes.texts, workers)  # once, for the features and the text choice
        features = extract_features(
            notes.texts,
            notes.summaries,
            notes.ids or list(range(len(notes))),
            progress=not args.quiet,
            sentences=sentences,
            workers=workers,
        )

    with log.stage("Embeddings"):
        model = load_embedding_model(args.model, device=str(device))
        log.say(
            f"model {model.name} ({model.source}), sha256 {model.weights_sha256}, device {device}"
        )
        embedded = embed_notes(
            notes.texts,
            model,
            args.text_strategy,
            cache_dir=out_dir / CACHE_DIR_NAME,
            batch_size=args.batch_size or default_batch_size(device),
            force=args.force,
            progress=not args.quiet,
            sentences=sentences,
            workers=workers,
        )
        log.say(
            f"{embedded.encoded_now} texts encoded now, {embedded.cached} from the cache, {embedded.empty_notes} empty notes -> zero vectors"
        )
        truncation = truncation_summary(embedded, model, args.text_strategy)

    with log.stage("Writing outputs"):
        meta = build_meta(args, notes, model, embedded, truncation, pairing)
        data = assemble(vitals, embedded.vectors, pairing, meta)
        paths = {key: out_dir / name for key, name in OUTPUT_FILES.items()}
        artifacts.write_atomically(paths["raw_notes"], notes.table.to_parquet)
        # tokens_cut: what the embedding of each note left out, beside its features
        features = features.assign(tokens_cut=embedded.tokens_cut)
        artifacts.write_atomically(paths["features"], lambda tmp: features.to_csv(tmp, index=False))
        artifacts.save_npy(paths["embeddings"], embedded.vectors)
        save_multimodal_data(paths["multimodal"], data)

    print_summary(
        args, notes, embedded, truncation, pairing, paths, log, time.perf_counter() - started
    )
    return 0


def linkage_rule(args):
    from multimodal_deterioration.linkage import LinkageRule

    return LinkageRule(
        time_column=args.time_column,
        window_hours=args.note_window_hours,
        category_column=args.category_column,
        exclude_categories=tuple(args.exclude_category),
        aggregation=args.note_aggregation,
        allow_untimed_notes=args.allow_untimed_notes,
    )


def linkage_columns(args) -> list[tuple[str, str]]:
    """Note columns the linked-notes flags name, to be checked before anything is read."""
    named = [(args.time_column, "--time-column"), (args.category_column, "--category-column")]
    return [(column, flag) for column, flag in named if column is not None]


def build_meta(args, notes, model, embedded, truncation, pairing) -> dict:
    from multimodal_deterioration.artifacts import package_versions, sha256_of_file

    return {
        "demo": bool(args.demo),
        "synthetic": bool(args.demo),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "notes": {
            "source": notes.source,
            "split": notes.split,
            "count": len(notes),
            "loaded": notes.loaded,
            "kept": len(notes),
            "text_column": notes.text_column,
            "id_column": notes.id_column,
            "empty_notes": embedded.empty_notes,
        },
        "vitals_file": str(args.vitals),
        "vitals_sha256": sha256_of_file(args.vitals),
        "embedding_model": model.describe(),
        "text_strategy": args.text_strategy,
        "embedding_truncation": truncation,
        "pairing": pairing.summary(),
        "seed": args.seed,
        "versions": package_versions(),
    }


def print_summary(args, notes, embedded, truncation, pairing, paths, log, total_seconds) -> None:
    from multimodal_deterioration.linkage import describe_linkage

    summary = pairing.summary()
    banner = "SYNTHETIC DEMO DATA - not clinical evidence. " if args.demo else ""
    linked = (
        "notes are linked to samples by id"
        if summary["clinically_linked"]
        else f"notes were paired {summary['method']}ly, NOT by patient: any effect of the text "
        "cannot be attributed to clinical information"
    )
    kept = f" of {notes.loaded} loaded" if notes.loaded not in (None, len(notes)) else ""
    print(
        f"\n== Summary\n{banner}{len(notes)} notes{kept} ({embedded.empty_notes} empty), pairing '{summary['method']}': {linked}."
    )
    for split, n_samples in summary["samples"].items():
        linked_notes = (
            f", {summary['eligible_links'][split]:6d} note links"
            if "eligible_links" in summary
            else f", {summary['reused_samples'][split]:5d} reusing a note"
        )
        print(
            f"  {split:<5} {n_samples:6d} samples, {summary['unique_notes_used'][split]:6d} distinct notes"
            f"{linked_notes}, {summary['samples_without_note'][split]:5d} without a note"
        )
    if describe_linkage(summary):
        print(textwrap.fill(describe_linkage(summary), width=100))
    print(
        f"{truncation['strategy']}: {truncation['notes_truncated']:,} of {truncation['notes']:,} "
        f"notes ({truncation['share_truncated']:.1%}) lost text to the "
        f"{truncation['token_budget']}-token budget"
    )
    print("Time per stage:")
    print("\n".join(log.timing_lines()))
    print(f"  {'total':<34} {total_seconds:7.1f} s")
    print("Wrote:")
    for path in paths.values():
        print(f"  {path}")
    data_arg = (
        ""
        if Path(args.out_dir).resolve() == Path.cwd()
        else f" --data {paths['multimodal']} --out-dir {args.out_dir}"
    )
    print(f"Next: python train_multimodal_lstm.py{data_arg}")


if __name__ == "__main__":
    from multimodal_deterioration.cli import run_cli

    sys.exit(
        run_cli(
            main,
            None,
            "run the same command again to resume: finished embedding batches are cached",
        )
    )
