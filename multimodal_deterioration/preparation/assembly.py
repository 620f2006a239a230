"""Assembly: each sample's vitals, label and id joined with the aggregate of its notes'
embeddings, as the ``MultimodalData`` that ``contract.multimodal_data`` saves."""

from __future__ import annotations

import numpy as np

from ..contract.multimodal_data import MultimodalData, MultimodalSplit
from .linkage import SampleNotes
from .pairing import NO_NOTE, Pairing
from .vitals import SPLITS, Vitals


def assemble(
    vitals: Vitals, embeddings: np.ndarray, pairing: Pairing, meta: dict
) -> MultimodalData:
    """Give every sample the aggregate of its notes' embeddings (a zero vector where it has none).

    ``mean``: the L2-normalised mean of the notes' embeddings; ``last``: the most recent note's.
    A single note's embedding is used as it is. Each sample's ``note_hours`` (how old its most
    recent note is at the prediction time, whichever the aggregation) is kept where the pairing
    knows the times.
    """
    note_hours = pairing.note_hours
    splits = {}
    for name in SPLITS:
        vital_split = vitals.splits[name]
        sample_notes = pairing.notes[name]
        text = aggregate_embeddings(embeddings, sample_notes, pairing.aggregation)
        splits[name] = MultimodalSplit(
            vital_split.X,
            text,
            vital_split.y,
            sample_notes.most_recent(NO_NOTE),
            vital_split.ids,
            sample_notes.counts,
            note_hours[name] if note_hours is not None else None,
        )
    return MultimodalData(splits, meta, vitals.feature_names)


def aggregate_embeddings(
    embeddings: np.ndarray, sample_notes: SampleNotes, aggregation: str = "mean"
) -> np.ndarray:
    """One text vector per sample from its notes' rows of ``embeddings`` (see ``assemble``).

    >>> notes = SampleNotes(indptr=np.array([0, 0, 2]), rows=np.array([0, 1]))
    >>> aggregate_embeddings(np.array([[3.0, 0.0], [0.0, 4.0]]), notes, "mean")
    array([[0. , 0. ],
           [0.6, 0.8]], dtype=float32)
    """
    text = np.zeros((len(sample_notes), embeddings.shape[1]), dtype=np.float32)
    counts = sample_notes.counts
    latest = sample_notes.most_recent(NO_NOTE)
    single = counts == 1 if aggregation == "mean" else counts > 0
    text[single] = embeddings[latest[single]]
    if aggregation == "mean":
        for sample in np.flatnonzero(counts > 1):
            rows = sample_notes.rows[sample_notes.indptr[sample] : sample_notes.indptr[sample + 1]]
            mean = embeddings[rows].astype(np.float64).mean(axis=0)
            norm = np.linalg.norm(mean)
            text[sample] = mean / norm if norm > 0 else 0.0
    return text
