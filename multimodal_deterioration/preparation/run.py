"""Preparation, end to end: notes -> pairing -> features -> embeddings -> ``multimodal_data.npz``.

``download_and_prepare_clinical_notes.py`` parses the settings into a :class:`PreparationConfig`
and calls :func:`prepare`, then :func:`print_summary`. Pairing runs before the slow steps: it
reads only the ids, times and categories, so a pairing that cannot work fails early and notes no
sample can use are never featurised or embedded.
"""

from __future__ import annotations

import dataclasses
import sys
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import torch

from ..base import artifacts
from ..base.cli import StageLog
from ..base.settings import check_settings, setting
from ..base.workers import available_cores
from ..contract.multimodal_data import MultimodalData, save_multimodal_data
from .assembly import assemble
from .demo import (
    DEFAULT_N_PATIENTS,
    DEMO_CATEGORY_COLUMN,
    DEMO_NOTES_ID_COLUMN,
    DEMO_TIME_COLUMN,
    write_demo_inputs,
)
from .embedding_cache import CACHE_DIR_NAME
from .embeddings import (
    DEFAULT_MODEL,
    DEFAULT_TEXT_STRATEGY,
    TEXT_STRATEGIES,
    EmbeddingModel,
    EmbeddingResult,
    default_batch_size,
    embed_notes,
    load_embedding_model,
    truncation_summary,
)
from .features import extract_features
from .linkage import LinkageRule, describe_linkage
from .notes import DEFAULT_DATASET, DEFAULT_TEXT_COLUMN, Notes, NotesSource, open_notes
from .pairing import (
    DEFAULT_PAIRING_SEED,
    PAIRING_METHODS,
    Pairing,
    pair_notes_with_vitals,
    resolve_method,
)
from .text import split_notes
from .vitals import Vitals, load_vitals

OUTPUT_FILES = {
    "raw_notes": "clinical_notes_raw.parquet",
    "features": "clinical_features.csv",
    "embeddings": "clinical_embeddings.npy",
    "multimodal": "multimodal_data.npz",
}
DEMO_INPUT_DIR = "demo_inputs"


@dataclass(frozen=True)
class PreparationConfig:
    """Which notes and vitals to read, how to embed the notes and how to pair them."""

    dataset: str = setting(DEFAULT_DATASET, "Hugging Face dataset id of the notes")
    split: str = setting(
        "train", "split or slice to load, e.g. 'train[:1000]'; also slices --notes"
    )
    notes_file: str | None = setting(
        None,
        "local .jsonl/.json/.csv/.parquet notes in the same schema, instead of the Hub",
        flag="--notes",
        metavar="FILE",
    )
    text_column: str = setting(DEFAULT_TEXT_COLUMN, "column holding the note text")
    id_column: str | None = setting(
        None, "note column with the ids used in ids_{split} of the vitals, for pairing by id"
    )
    vitals_file: str = setting(
        "processed_data.npz",
        "your vital-sign file, X_/y_/ids_{train,val,test}",
        flag="--vitals",
        metavar="FILE",
    )
    model: str = setting(
        DEFAULT_MODEL, "sentence-transformers model name or local directory (packaged default)"
    )
    text_strategy: str = setting(
        DEFAULT_TEXT_STRATEGY,
        "key-sentences: up to 10 clinical sentences within the model's token limit (256 for "
        "the default MiniLM; reference); chunk-mean: the whole note in model-length chunks, "
        "mean-pooled",
        choices=TEXT_STRATEGIES,
    )
    batch_size: int | None = setting(
        None,
        "notes per embedding batch and cache shard (default: 64 on CPU, 256 on CUDA, where "
        "larger batches are faster; the vectors agree to float32 rounding whatever it is, and a "
        "bit-identical re-run needs the same one)",
        minimum=1,
        kind=int,
    )
    workers: int | None = setting(
        None,
        "processes that split notes into sentences, extract features and choose the text to "
        "embed (default: every available core; the result does not depend on it)",
        minimum=1,
        kind=int,
    )
    force: bool = setting(
        False,
        "ignore the embedding cache and encode every note again, replacing the cached vectors "
        "of this model and text strategy (another strategy's stay cached)",
    )
    pairing: str = setting(
        "auto",
        "auto: by id when both sides have ids, else random",
        choices=PAIRING_METHODS,
    )
    seed: int = setting(DEFAULT_PAIRING_SEED, "seed of the random pairing")
    linkage: LinkageRule = field(default_factory=LinkageRule)
    demo: bool = setting(
        False,
        "build a synthetic linked cohort (vitals + notes) and run the whole pipeline on it",
    )
    demo_patients: int = setting(DEFAULT_N_PATIENTS, "patients in the demo cohort")

    def __post_init__(self) -> None:
        check_settings(self)


def demo_linkage_columns(time_column: str | None, allow_untimed: bool, category: str | None):
    """The demo's note columns where the user named none: its notes are timed and categorised."""
    return {
        "time_column": time_column or (None if allow_untimed else DEMO_TIME_COLUMN),
        "category_column": category or DEMO_CATEGORY_COLUMN,
    }


@dataclass
class PreparationOutcome:
    """What the preparation kept and wrote, for the closing summary."""

    config: PreparationConfig
    notes: Notes  # the notes kept: those some sample can use
    pairing: Pairing
    empty_notes: int
    truncation: dict
    paths: dict[str, Path]


def prepare(
    config: PreparationConfig, out_dir: Path, device: torch.device, log: StageLog
) -> PreparationOutcome:
    """Run every preparation stage and write the four outputs; see the module docstring."""
    if config.demo:
        config = write_demo_cohort(config, out_dir, log)
    vitals = load_and_describe_vitals(config, log)
    source, method = open_notes_for_pairing(config, vitals, log)
    pairing, notes = pair_and_keep_used_notes(config, vitals, source, method, log)

    with log.stage("Features: keyword + negation-aware"):
        workers = config.workers or available_cores()
        sentences = split_notes(notes.texts, workers)  # once, for the features and the text choice
        features = extract_features(
            notes.texts,
            notes.summaries,
            notes.ids or list(range(len(notes))),
            progress=log.enabled,
            sentences=sentences,
            workers=workers,
        )

    model, embedded, truncation = embed_kept_notes(
        config, notes, out_dir, device, sentences, workers, log
    )

    with log.stage("Writing outputs"):
        meta = data_meta(config, notes, pairing, model, embedded, truncation)
        data = assemble(vitals, embedded.vectors, pairing, meta)
        paths = write_outputs(out_dir, notes, features, embedded, data)

    return PreparationOutcome(config, notes, pairing, embedded.empty_notes, truncation, paths)


def write_demo_cohort(config: PreparationConfig, out_dir: Path, log: StageLog) -> PreparationConfig:
    """Write the synthetic linked cohort and point ``config`` at its vitals and notes."""
    with log.stage("Demo: writing a synthetic linked cohort"):
        inputs = write_demo_inputs(out_dir / DEMO_INPUT_DIR, n_patients=config.demo_patients)
        config = dataclasses.replace(
            config,
            notes_file=str(inputs.notes_path),
            vitals_file=str(inputs.vitals_path),
            id_column=DEMO_NOTES_ID_COLUMN,
        )
        log.say(
            f"SYNTHETIC DEMO DATA: {inputs.n_patients} patients -> {inputs.vitals_path}, "
            f"{inputs.notes_path}"
        )
    return config


def load_and_describe_vitals(config: PreparationConfig, log: StageLog) -> Vitals:
    with log.stage("Vitals: loading and checking"):
        vitals = load_vitals(config.vitals_file)
        sizes = {name: len(split) for name, split in vitals.splits.items()}
        log.say(
            f"{config.vitals_file}: {sizes}, {vitals.n_timesteps} steps x {vitals.n_features} "
            f"features, ids: {'yes' if vitals.has_ids else 'no'}, prediction times: "
            f"{'yes' if vitals.has_times else 'no'}"
        )
    return vitals


def open_notes_for_pairing(
    config: PreparationConfig, vitals: Vitals, log: StageLog
) -> tuple[NotesSource, str]:
    """The notes source (not yet read into memory) and the pairing method it allows."""
    with log.stage("Notes: loading"):
        rule = config.linkage
        named = [(rule.time_column, "--time-column"), (rule.category_column, "--category-column")]
        source = open_notes(
            config.dataset,
            config.split,
            config.text_column,
            config.id_column,
            notes_file=config.notes_file,
            other_columns=[(column, flag) for column, flag in named if column is not None],
        )
        method = resolve_method(config.pairing, vitals.has_ids, source.id_column is not None)
        log.say(
            f"{source.source} [{source.split}]: {len(source)} notes; pairing will be {method!r}"
        )
    return source, method


def pair_and_keep_used_notes(
    config: PreparationConfig, vitals: Vitals, source: NotesSource, method: str, log: StageLog
) -> tuple[Pairing, Notes]:
    with log.stage("Pairing notes with vitals"):
        pairing, notes = pair_notes_with_vitals(vitals, source, method, config.seed, config.linkage)
        if len(notes) < len(source):
            log.say(f"{len(notes)} of {len(source)} notes are used by some sample; only they go on")
        for warning in pairing.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    return pairing, notes


def embed_kept_notes(
    config: PreparationConfig,
    notes: Notes,
    out_dir: Path,
    device: torch.device,
    sentences: list[list[str]],
    workers: int,
    log: StageLog,
) -> tuple[EmbeddingModel, EmbeddingResult, dict]:
    """The model, each note's vector (through the cache) and what the token budget cut."""
    with log.stage("Embeddings"):
        model = load_embedding_model(config.model, device=str(device))
        log.say(
            f"model {model.name} ({model.source}), sha256 {model.weights_sha256}, device {device}"
        )
        embedded = embed_notes(
            notes.texts,
            model,
            config.text_strategy,
            cache_dir=out_dir / CACHE_DIR_NAME,
            batch_size=config.batch_size or default_batch_size(device),
            force=config.force,
            progress=log.enabled,
            sentences=sentences,
            workers=workers,
        )
        log.say(
            f"{embedded.encoded_now} texts encoded now, {embedded.cached} from the cache, "
            f"{embedded.empty_notes} empty notes -> zero vectors"
        )
        truncation = truncation_summary(embedded, model, config.text_strategy)
    return model, embedded, truncation


def data_meta(
    config: PreparationConfig,
    notes: Notes,
    pairing: Pairing,
    model: EmbeddingModel,
    embedded: EmbeddingResult,
    truncation: dict,
) -> dict:
    """The data file's ``meta``: where the notes and vitals came from, how they were embedded
    and paired (with the linkage rule in words, ``pairing.description``), and the versions."""
    pairing_summary = pairing.summary()
    return {
        "demo": config.demo,
        "synthetic": config.demo,
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
        "vitals_file": str(config.vitals_file),
        "vitals_sha256": artifacts.sha256_of_file(config.vitals_file),
        "embedding_model": model.describe(),
        "text_strategy": config.text_strategy,
        "embedding_truncation": truncation,
        "pairing": {**pairing_summary, "description": describe_linkage(pairing_summary) or None},
        "seed": config.seed,
        "versions": artifacts.package_versions(),
    }


def write_outputs(
    out_dir: Path,
    notes: Notes,
    features: pd.DataFrame,
    embedded: EmbeddingResult,
    data: MultimodalData,
) -> dict[str, Path]:
    """The raw notes, their features, their embeddings and ``multimodal_data.npz``, atomically."""
    paths = {key: out_dir / name for key, name in OUTPUT_FILES.items()}
    artifacts.write_atomically(paths["raw_notes"], notes.table.to_parquet)
    # tokens_cut: what the embedding of each note left out, beside its features
    features = features.assign(tokens_cut=embedded.tokens_cut)
    artifacts.write_atomically(paths["features"], lambda tmp: features.to_csv(tmp, index=False))
    artifacts.save_npy(paths["embeddings"], embedded.vectors)
    save_multimodal_data(paths["multimodal"], data)
    return paths


def print_summary(outcome: PreparationOutcome) -> None:
    """Counts per split, how notes were paired, what the token budget cut, and the next command."""
    notes, summary, truncation = outcome.notes, outcome.pairing.summary(), outcome.truncation
    banner = "SYNTHETIC DEMO DATA - not clinical evidence. " if outcome.config.demo else ""
    linked = (
        "notes are linked to samples by id"
        if summary["clinically_linked"]
        else f"notes were paired {summary['method']}ly, NOT by patient: any effect of the text "
        "cannot be attributed to clinical information"
    )
    kept = f" of {notes.loaded} loaded" if notes.loaded not in (None, len(notes)) else ""
    print(
        f"\n== Summary\n{banner}{len(notes)} notes{kept} ({outcome.empty_notes} empty), pairing "
        f"'{summary['method']}': {linked}."
    )
    for split, n_samples in summary["samples"].items():
        linked_notes = (
            f", {summary['eligible_links'][split]:6d} note links"
            if "eligible_links" in summary
            else f", {summary['reused_samples'][split]:5d} reusing a note"
        )
        print(
            f"  {split:<5} {n_samples:6d} samples, {summary['unique_notes_used'][split]:6d} "
            f"distinct notes{linked_notes}, {summary['samples_without_note'][split]:5d} without "
            "a note"
        )
    if describe_linkage(summary):
        print(textwrap.fill(describe_linkage(summary), width=100))
    print(
        f"{truncation['strategy']}: {truncation['notes_truncated']:,} of {truncation['notes']:,} "
        f"notes ({truncation['share_truncated']:.1%}) lost text to the "
        f"{truncation['token_budget']}-token budget"
    )


def next_command(outcome: PreparationOutcome, out_dir: str) -> str:
    """The training command that reads what was just written."""
    data_arg = (
        ""
        if Path(out_dir).resolve() == Path.cwd()
        else f" --data {outcome.paths['multimodal']} --out-dir {out_dir}"
    )
    return f"Next: python train_multimodal_lstm.py{data_arg}"
