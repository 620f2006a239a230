"""The resumable embedding cache: encoded vectors on disk, one shard per encoded batch.

Vectors are keyed by a fingerprint of the loaded model (parameters, tokenizer, modules), the
text strategy and the sha256 of the text. Each batch is written as one atomically saved shard
as soon as it is encoded, so killing a run loses at most the batch in flight; running the same
command again encodes only what is missing, and an unchanged re-run encodes nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..base.artifacts import save_npz
from ..base.progress import progress_bar

if TYPE_CHECKING:  # annotations only: embeddings imports this module
    from .embeddings import EmbeddingModel

# The cache's directory inside the output directory.
CACHE_DIR_NAME = ".embedding_cache"


class EmbeddingCache:
    """Vectors on disk, one shard per encoded batch, keyed by the sha256 of the text.

    One directory per model fingerprint and strategy: a model replaced under the same name or
    path, or two models that share a weight file but not their tokenizer or pooling, never read
    each other's vectors.
    """

    def __init__(self, root: str | os.PathLike, model: EmbeddingModel, strategy: str):
        slug = re.sub(r"[^A-Za-z0-9]+", "-", model.name).strip("-")[-40:]
        self.directory = Path(root) / f"{slug}-{model.fingerprint[:16]}" / strategy

    @staticmethod
    def key(text: str) -> str:
        """The sha256 of ``text``, under which its vector is stored.

        >>> EmbeddingCache.key("no fever")[:12]
        '97cb500fb409'
        """
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
        shard = (
            self.directory / f"shard-{hashlib.sha256(''.join(keys).encode()).hexdigest()[:20]}.npz"
        )
        save_npz(shard, compress=False, keys=np.array(keys), vectors=vectors.astype(np.float32))


def encode_through_cache(
    texts: list[str],
    encoder,
    cache: EmbeddingCache | None,
    batch_size: int,
    force: bool = False,
    progress: bool = True,
) -> tuple[dict[str, np.ndarray], int]:
    """Each of the distinct ``texts``' L2-normalised vector, read from ``cache`` where it has
    it and encoded by ``encoder`` (a ``SentenceTransformer``) in batches where not, each batch
    stored as it is done.

    Args:
        texts: distinct texts.
        encoder: the model's ``SentenceTransformer``.
        cache: where vectors are kept between runs; None encodes every text.
        batch_size: texts per encode call and per shard.
        force: clear the cache first and encode every text.
        progress: show a bar over the texts encoded.

    Returns:
        The vector of each text, and how many texts were encoded now (the rest came from the
        cache).
    """
    if cache is not None and force:
        cache.clear()
    known = cache.load() if cache is not None else {}
    keys = {text: EmbeddingCache.key(text) for text in texts}
    # Encoded shortest first, so each batch holds texts of similar length and little padding:
    # linked notes mix long admission notes with short progress notes, and in file order every
    # batch was padded to its longest note (2.5x slower on the demo). Vectors are stored by text,
    # so the order does not change which vector a note gets.
    missing = sorted((text for text in texts if keys[text] not in known), key=len)

    with progress_bar(
        total=len(missing), enabled=progress, desc="embedding notes", unit="text"
    ) as bar:
        for start in range(0, len(missing), batch_size):
            batch = missing[start : start + batch_size]
            vectors = encoder.encode(
                batch, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
            )
            batch_keys = [keys[text] for text in batch]
            known.update(zip(batch_keys, vectors))
            if cache is not None:
                cache.add(batch_keys, vectors)
            bar.update(len(batch))
    return {text: known[keys[text]] for text in texts}, len(missing)
