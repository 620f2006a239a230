"""Benchmark the two expensive steps of the pipeline on this machine.

(a) Embedding N notes with the packaged all-MiniLM-L6-v2 (``embeddings.load_embedding_model`` +
    ``embeddings.embed_notes``, a throwaway cache directory, ``force=True``) -> notes/s.
(b) One training epoch of the reference MultiModalLSTM (``training.train_model`` with
    ``epochs=1``) on synthetic arrays of N samples x 24 steps x 6 vitals + 384-d text
    -> training samples/s. The epoch includes the validation pass that ``train_model`` always
    runs (on a validation set of ``--val-fraction`` x N samples).

Each case reports wall time, the process's peak resident memory so far (``ru_maxrss``: a
high-water mark over the whole process, so it never goes down between cases) and, on CUDA,
the peak GPU memory allocated by torch during that case alone.

The notes are the demo cohort's (``demo.make_demo_cohort``), one text per patient (its notes
before the prediction time, joined): realistic ward-note length and vocabulary, and the same
texts on every machine. A short untimed warm-up precedes each section
so one-time costs (thread pools, CUDA context, kernel selection) are not billed to the first N.

``--fast-encoder-proxy`` swaps the model for a tiny random one with the same tokenizer, so that on
a CPU the encoding is as fast as on a GPU and the text work around it is timed in that regime.

    python benchmarks/benchmark_pipeline.py                     # small defaults, ~2 min on 2 CPUs
    python benchmarks/benchmark_pipeline.py --fast-encoder-proxy --embed-sizes 2000,10000 \\
        --embed-batch-size 256 --loop-max 0 --train-sizes ""
    python benchmarks/benchmark_pipeline.py --device cuda --embed-sizes 1000,10000 \\
        --train-sizes 10000,100000 --out benchmark.json
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout, without installing
    sys.path.insert(0, str(REPO_ROOT))

import numpy as np
import torch

from multimodal_deterioration.base.artifacts import save_json
from multimodal_deterioration.base.devices import DEVICE_CHOICES, resolve_device
from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.base.workers import available_cores
from multimodal_deterioration.learning.model import DEFAULT_TEXT_DIM, ModelConfig, build_model
from multimodal_deterioration.learning.training import TrainingConfig, train_model
from multimodal_deterioration.preparation import demo
from multimodal_deterioration.preparation.embeddings import (
    DEFAULT_MODEL,
    TEXT_STRATEGIES,
    EmbeddingModel,
    default_batch_size,
    embed_notes,
    load_embedding_model,
    texts_to_encode,
)
from multimodal_deterioration.preparation.text import split_notes

# Defaults: small enough for about two minutes on 2 CPU cores.
EMBED_SIZES = "100,400"
TRAIN_SIZES = "1000,4000"
N_TIMESTEPS = demo.DEFAULT_N_TIMESTEPS  # 24 hourly steps, as in the reference setup
N_VITALS = len(demo.DEMO_FEATURE_NAMES)  # 6
VAL_FRACTION = 0.15  # validation samples per training sample, as in the demo's split
PREVALENCE = 0.20  # share of positive labels in the synthetic training arrays
REPEATS = 2  # each case is timed this often and the fastest run reported (see --repeats)
WARMUP_NOTES = 16
WARMUP_SAMPLES = 128
SEED = 0


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from error
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return sizes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time note embedding and one training epoch on this machine.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--embed-sizes",
        type=parse_sizes,
        default=EMBED_SIZES,
        help="comma-separated numbers of notes to embed; empty string skips embedding",
    )
    parser.add_argument(
        "--train-sizes",
        type=parse_sizes,
        default=TRAIN_SIZES,
        help="comma-separated numbers of training samples for one epoch; empty string skips",
    )
    parser.add_argument(
        "--device", choices=DEVICE_CHOICES, default="auto", help="torch device for both steps"
    )
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help="sentence-transformers model; the default is packaged",
    )
    parser.add_argument(
        "--strategy", choices=TEXT_STRATEGIES, default="key-sentences", help="text per note"
    )
    parser.add_argument(
        "--fast-encoder-proxy",
        action="store_true",
        help="encode with a randomly initialised 1-layer, 32-wide BERT that keeps the model's "
        "tokenizer and length limit: on a CPU it encodes about as fast as MiniLM on a GPU, so the "
        "text work around the encoding weighs as it would there (its vectors are meaningless)",
    )
    parser.add_argument(
        "--embed-batch-size",
        type=int,
        help="notes per encode batch (default: the preparation script's, 64 on CPU, 256 on CUDA)",
    )
    parser.add_argument(
        "--loop-max",
        type=int,
        default=2000,
        help="time the per-note loop only up to this many notes (it is the slow reference)",
    )
    parser.add_argument(
        "--train-batch-size",
        type=int,
        default=TrainingConfig().batch_size,
        help="training batch size (the reference setup uses 32)",
    )
    parser.add_argument(
        "--val-fraction",
        type=float,
        default=VAL_FRACTION,
        help="validation samples per training sample (train_model always validates)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=REPEATS,
        help="time each case this many times and report the fastest (shared or throttled CPUs "
        "make single timings noisy); every time is kept in the JSON",
    )
    parser.add_argument("--threads", type=int, help="torch CPU threads; unset: torch's choice")
    parser.add_argument("--out", type=Path, help="also write the results as JSON to this file")
    return parser.parse_args(argv)


# --- measurements ------------------------------------------------------------------------------


def peak_rss_mib() -> float:
    """The process's peak resident set size so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def start_case(device: torch.device) -> float:
    synchronize(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    return time.perf_counter()


def end_case(device: torch.device, started: float) -> dict:
    synchronize(device)
    seconds = time.perf_counter() - started
    memory = {"peak_rss_mib": round(peak_rss_mib(), 1)}
    if device.type == "cuda":
        memory["cuda_peak_allocated_mib"] = round(
            torch.cuda.max_memory_allocated(device) / 2**20, 1
        )
    return {"seconds": seconds, **memory}


def fastest(timings: list[dict]) -> dict:
    """The fastest of repeated timings of one case, with every wall time kept."""
    best = min(timings, key=lambda timing: timing["seconds"])
    return {**best, "all_seconds": [round(timing["seconds"], 4) for timing in timings]}


def patient_texts(records: list[dict]) -> list[str]:
    """One text per demo patient: its notes charted before the prediction time, in time order
    (about 140 words, the length of one note of the earlier one-note demo, so timings compare)."""
    by_patient: dict[str, list[dict]] = {}
    for record in records:
        if record[demo.DEMO_CATEGORY_COLUMN] != demo.DISCHARGE_CATEGORY:
            by_patient.setdefault(record[demo.DEMO_NOTES_ID_COLUMN], []).append(record)
    return [
        " ".join(r["note"] for r in sorted(notes, key=lambda r: r[demo.DEMO_TIME_COLUMN]))
        for _, notes in sorted(by_patient.items())
    ]


# The AGBonnet case reports average about 740 words; long notes are demo texts joined to that.
LONG_NOTE_WORDS = 740
EMBEDDING_VARIANTS = (
    "per-note loop (reference)",
    "encode, batched (reference)",
    "embed_notes",
    "split + embed_notes",
)


def long_texts(short: list[str], n: int) -> list[str]:
    """``n`` notes of about ``LONG_NOTE_WORDS`` words, each joined from consecutive short ones."""
    texts, position = [], 0
    while len(texts) < n:
        parts, words = [], 0
        while words < LONG_NOTE_WORDS:
            text = short[position % len(short)]
            parts.append(text)
            words += len(text.split())
            position += 1
        texts.append(" ".join(parts))
    return texts


def embedding_case(variant, texts, model, args, cache_dir) -> tuple[np.ndarray, int]:
    """Embed ``texts`` one way; returns the vectors and the number of texts sent to the model.

    The two references encode the text that ``embed_notes`` would choose for each note, chosen
    beforehand and outside the timing (``texts_to_encode``): they are what the project's own
    path, which also chooses the text, must keep up with. ``embed_notes`` gets the notes' split
    sentences as the preparation script hands them over from the feature stage, and every core
    for choosing the texts, as the script gives it; "split + embed_notes" also splits the notes
    (``split_notes`` on every core) inside the timing.
    """
    encoder = model.encoder
    if variant in EMBEDDING_VARIANTS[2:]:
        sentences = args.sentences
        if variant == EMBEDDING_VARIANTS[3]:
            sentences = split_notes(texts, available_cores())
        result = embed_notes(
            texts,
            model,
            args.strategy,
            cache_dir=cache_dir,
            batch_size=args.embed_batch_size,
            force=True,
            progress=False,
            sentences=sentences,
            workers=available_cores(),
        )
        return result.vectors, result.encoded_now
    chosen = [units[0] for units in args.chosen_texts]
    if variant == EMBEDDING_VARIANTS[0]:
        vectors = [
            encoder.encode([text], normalize_embeddings=True, show_progress_bar=False)[0]
            for text in chosen
        ]
        return np.stack(vectors), len(chosen)
    vectors = encoder.encode(
        chosen,
        batch_size=args.embed_batch_size,
        normalize_embeddings=True,
        show_progress_bar=False,
    )
    return vectors, len(chosen)


def fast_encoder_proxy(model: EmbeddingModel, directory: Path, device: str) -> EmbeddingModel:
    """``model``'s tokenizer and length limit on a tiny random BERT (1 layer, width 32).

    Encoding then costs a CPU about what MiniLM costs a GPU (about 2,000-3,500 short notes/s
    either way), while the tokenizer, and so every text the pipeline chooses and counts, is the
    real one: the CPU-side work of the embedding stage is timed in the regime a GPU puts it in.
    """
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel

    tokenizer = model.encoder.tokenizer
    torch.manual_seed(SEED)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=max(512, model.max_tokens),
    )
    BertModel(config).save_pretrained(directory / "bert")
    tokenizer.save_pretrained(directory / "bert")
    transformer = models.Transformer(str(directory / "bert"), max_seq_length=model.max_tokens)
    modules = [transformer, models.Pooling(config.hidden_size, "mean"), models.Normalize()]
    SentenceTransformer(modules=modules).save(str(directory / "proxy"))
    proxy = load_embedding_model(str(directory / "proxy"), device=device)
    return dataclasses.replace(proxy, name=f"fast-encoder proxy of {model.name}")


def benchmark_embedding(sizes: list[int], args: argparse.Namespace, device: torch.device) -> dict:
    started = start_case(device)
    model = load_embedding_model(args.model, device=str(device))
    if args.fast_encoder_proxy:
        with tempfile.TemporaryDirectory(prefix="fast-encoder-proxy-") as directory:
            model = fast_encoder_proxy(model, Path(directory), str(device))
    # A model directory with half-precision weights (how a copy travels to a GPU machine) is
    # timed in float32, as the packaged model runs; speed does not depend on the values.
    model.encoder.to(torch.float32)
    load = end_case(device, started)
    args.embed_batch_size = args.embed_batch_size or default_batch_size(device)
    # Enough patients that every long note is joined from short texts no other note uses.
    n_patients = max(max(sizes) * (LONG_NOTE_WORDS // 100 + 1), demo.MIN_PATIENTS)
    short = patient_texts(demo.make_demo_cohort(n_patients, seed=SEED).notes)
    note_sets = {"short (demo)": short, "long (case-report length)": long_texts(short, max(sizes))}
    if args.strategy != "key-sentences":
        raise SystemExit("the embedding comparison encodes one text per note: use key-sentences")
    rows = []
    with tempfile.TemporaryDirectory(prefix="embedding-benchmark-") as cache_dir:
        embed_notes(  # warm-up, untimed, on texts the timed runs do not reuse from the cache
            [f"warm-up note {i}: breathless and confused." for i in range(WARMUP_NOTES)],
            model,
            args.strategy,
            cache_dir=cache_dir,
            batch_size=args.embed_batch_size,
            force=True,
            progress=False,
        )
        for label, texts in note_sets.items():
            for size in sizes:
                notes = texts[:size]
                args.sentences = split_notes(notes, available_cores())
                chosen = texts_to_encode(notes, args.strategy, model, args.sentences)
                args.chosen_texts = chosen.units
                variants = EMBEDDING_VARIANTS if size <= args.loop_max else EMBEDDING_VARIANTS[1:]
                for variant in variants:
                    timings = []
                    for _ in range(args.repeats):
                        started = start_case(device)
                        vectors, encoded = embedding_case(variant, notes, model, args, cache_dir)
                        timings.append(end_case(device, started))
                    if vectors.shape != (size, model.dimension):
                        raise RuntimeError(f"{variant}: {size} notes gave {vectors.shape}")
                    measured = fastest(timings)
                    rows.append(
                        {
                            "notes": label,
                            "variant": variant,
                            "count": size,
                            "mean_words": float(np.mean([len(t.split()) for t in notes])),
                            # distinct texts sent to the model: identical chosen texts are
                            # encoded once by embed_notes
                            "texts_encoded": encoded,
                            **measured,
                            "notes_per_second": size / measured["seconds"],
                        }
                    )
                timed = rows[-len(variants) :]
                loop = timed[0]["seconds"] if variants[0] == EMBEDDING_VARIANTS[0] else None
                batched = next(r for r in timed if r["variant"] == EMBEDDING_VARIANTS[1])
                for row in timed:
                    row["speed_vs_per_note_loop"] = loop / row["seconds"] if loop else None
                    row["speed_vs_batched_encode"] = batched["seconds"] / row["seconds"]
    return {
        "model": model.name,
        "model_source": model.source,
        "strategy": args.strategy,
        "batch_size": args.embed_batch_size,
        "repeats": args.repeats,
        "model_load": load,
        "runs": rows,
    }


def synthetic_split(n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Standardised vitals, unit-norm text vectors and labels with both classes present."""
    X_vital = rng.standard_normal((n, N_TIMESTEPS, N_VITALS)).astype(np.float32)
    X_text = rng.standard_normal((n, DEFAULT_TEXT_DIM)).astype(np.float32)
    X_text /= np.linalg.norm(X_text, axis=1, keepdims=True)
    y = (rng.random(n) < PREVALENCE).astype(np.float32)
    y[:2] = (0.0, 1.0)  # train_model refuses a split with one class
    return X_vital, X_text, y


def dataloader_epoch(model, train, val, config: TrainingConfig, device: torch.device) -> None:
    """The reference to beat: one epoch of the textbook loop (``DataLoader`` over tensors on the
    CPU, batches moved to the device, Adam, weighted BCE, clipping), then a validation pass."""
    from sklearn.metrics import roc_auc_score
    from torch.utils.data import DataLoader, TensorDataset

    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    positives = float(train[2].sum())
    pos_weight = torch.tensor([(len(train[2]) - positives) / positives], device=device)
    tensors = TensorDataset(*(torch.as_tensor(array) for array in train))
    loader = DataLoader(tensors, batch_size=config.batch_size, shuffle=True)
    for vitals, text, labels in loader:
        logits = model(vitals.to(device), text.to(device))
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, labels.to(device), pos_weight=pos_weight
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        loss.item()  # the loop reports its loss, as train_model does
    model.eval()
    with torch.no_grad():
        logits = torch.cat(
            [
                model(
                    torch.as_tensor(val[0][i : i + 512]).to(device),
                    torch.as_tensor(val[1][i : i + 512]).to(device),
                ).cpu()
                for i in range(0, len(val[2]), 512)
            ]
        )
    roc_auc_score(val[2], logits.numpy())


# The training variants compared; "graph" differs from "eager" only on CUDA.
TRAINING_VARIANTS = ("DataLoader loop (reference)", "train_model, eager", "train_model, CUDA graph")


def one_epoch(
    n_train: int, args: argparse.Namespace, device: torch.device, variant: str
) -> tuple[dict, int]:
    rng = np.random.default_rng(SEED)
    n_val = max(2, round(args.val_fraction * n_train))
    train, val = synthetic_split(n_train, rng), synthetic_split(n_val, rng)
    config = TrainingConfig(
        epochs=1,
        patience=1,
        batch_size=args.train_batch_size,
        cuda_graph=variant == TRAINING_VARIANTS[2],
    )
    torch.manual_seed(SEED)
    model = build_model(ModelConfig(kind="multimodal", n_vital_features=N_VITALS))
    started = start_case(device)
    if variant == TRAINING_VARIANTS[0]:
        dataloader_epoch(model, train, val, config, device)
    else:
        train_model(model, train, val, config, device, seed=SEED, log=None, progress=False)
    return end_case(device, started), n_val


def benchmark_training(sizes: list[int], args: argparse.Namespace, device: torch.device) -> dict:
    variants = TRAINING_VARIANTS if device.type == "cuda" else TRAINING_VARIANTS[:2]
    for variant in variants:
        one_epoch(WARMUP_SAMPLES, args, device, variant)  # warm-up, untimed
    rows = []
    for size in sizes:
        reference_seconds = None
        for variant in variants:
            timings = []
            for _ in range(args.repeats):
                timing, n_val = one_epoch(size, args, device, variant)
                timings.append(timing)
            measured = fastest(timings)
            reference_seconds = reference_seconds or measured["seconds"]
            rows.append(
                {
                    "variant": variant,
                    "samples": size,
                    "val_samples": n_val,
                    **measured,
                    "samples_per_second": size / measured["seconds"],
                    "speed_vs_dataloader": reference_seconds / measured["seconds"],
                }
            )
    return {
        "model": "multimodal (reference MultiModalLSTM)",
        "timesteps": N_TIMESTEPS,
        "vital_features": N_VITALS,
        "text_dim": DEFAULT_TEXT_DIM,
        "batch_size": args.train_batch_size,
        "repeats": args.repeats,
        "runs": rows,
    }


# --- report ------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_machine(device: torch.device) -> dict:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    machine = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
        "device_name": cpu_model(),
    }
    if device.type == "cuda":
        machine["device_name"] = torch.cuda.get_device_name(device)
        machine["cuda"] = torch.version.cuda
    return machine


def ratio(value: float | None) -> str:
    return "not timed" if value is None else f"{value:.2f}x"


def markdown(results: dict) -> str:
    machine = results["machine"]
    lines = ["## Machine", "", "| | |", "| --- | --- |"]
    lines += [f"| {key} | {value} |" for key, value in machine.items()]
    cuda = machine["device"].startswith("cuda")
    gpu_head, gpu_rule = (" peak CUDA alloc (MiB) |", " --- |") if cuda else ("", "")

    def gpu_cell(row: dict) -> str:
        return f" {row['cuda_peak_allocated_mib']:.1f} |" if cuda else ""

    embedding = results.get("embedding")
    if embedding:
        load = embedding["model_load"]
        lines += [
            "",
            (
                f"## Embedding ({embedding['model']}, {embedding['strategy']}, "
                f"batch {embedding['batch_size']}; fastest of {embedding['repeats']})"
            ),
            "",
            f"Model load: {load['seconds']:.2f} s.",
            "",
            "| notes | words/note | loop | texts encoded | wall time (s) | notes/s "
            "| vs per-note loop | vs batched encode | peak RSS so far (MiB) |" + gpu_head,
            "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |" + gpu_rule,
        ]
        for row in embedding["runs"]:
            lines.append(
                f"| {row['count']} {row['notes']} | {row['mean_words']:.0f} | {row['variant']} "
                f"| {row['texts_encoded']} | {row['seconds']:.2f} "
                f"| {row['notes_per_second']:.1f} | {ratio(row['speed_vs_per_note_loop'])} "
                f"| {row['speed_vs_batched_encode']:.2f}x "
                f"| {row['peak_rss_mib']:.0f} |" + gpu_cell(row)
            )
    training = results.get("training")
    if training:
        lines += [
            "",
            (
                f"## One training epoch ({training['model']}, T={training['timesteps']}, "
                f"F={training['vital_features']}, text {training['text_dim']}-d, "
                f"batch {training['batch_size']}; includes the validation pass; "
                f"fastest of {training['repeats']})"
            ),
            "",
            "| loop | train samples | val samples | wall time (s) | samples/s | vs DataLoader "
            "| peak RSS so far (MiB) |" + gpu_head,
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |" + gpu_rule,
        ]
        for row in training["runs"]:
            lines.append(
                f"| {row['variant']} | {row['samples']} | {row['val_samples']} "
                f"| {row['seconds']:.2f} | {row['samples_per_second']:.0f} "
                f"| {row['speed_vs_dataloader']:.2f}x | {row['peak_rss_mib']:.0f} |" + gpu_cell(row)
            )
    lines += [
        "",
        (
            "Peak RSS is ru_maxrss, the process's high-water mark since start, so it never "
            "falls between cases."
        ),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.repeats < 1:
        print("error: --repeats must be at least 1", file=sys.stderr)
        return 2
    try:
        if args.threads:
            torch.set_num_threads(args.threads)
        device = resolve_device(args.device)
        results: dict = {"machine": describe_machine(device)}
        if args.embed_sizes:
            print(f"embedding {args.embed_sizes} notes on {device} ...", file=sys.stderr)
            results["embedding"] = benchmark_embedding(args.embed_sizes, args, device)
        if args.train_sizes:
            print(f"training one epoch on {args.train_sizes} samples ...", file=sys.stderr)
            results["training"] = benchmark_training(args.train_sizes, args, device)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(markdown(results))
    if args.out:
        save_json(args.out, results)
        print(f"\nwrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
