"""Worker processes for the per-note stages: sentence splitting, features, key sentences.

Each stage hands ``in_worker_processes`` a function over a list of notes; the result is the same
for any number of workers.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ProcessPoolExecutor

# Notes per task sent to a worker process: large enough that pickling is a small share.
NOTES_PER_TASK = 256

# What ``in_worker_processes`` sent to this worker process once, for every chunk it runs.
_shared_with_worker = None


def available_cores() -> int:
    """CPU cores this process may use (its affinity where the OS tells, else all)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def in_worker_processes(function, items: list, workers: int, done=None, shared=None) -> list:
    """``function`` over chunks of ``items``, results concatenated in order; in worker processes
    when ``workers > 1`` and there is more than one chunk. Same result either way. ``done(n)``
    is called as each chunk of n items finishes (for a progress bar).

    With ``shared`` (e.g. a tokenizer), ``function(chunk, shared)`` is called instead, and
    ``shared`` reaches each worker process once rather than pickled with every chunk.
    """
    chunks = [items[i : i + NOTES_PER_TASK] for i in range(0, len(items), NOTES_PER_TASK)]
    if workers <= 1 or len(chunks) <= 1:
        results = (
            function(chunk) if shared is None else function(chunk, shared) for chunk in chunks
        )
        return _joined(chunks, results, done)
    task = function if shared is None else functools.partial(_with_shared, function)
    with ProcessPoolExecutor(
        max_workers=min(workers, len(chunks)), initializer=_receive_shared, initargs=(shared,)
    ) as pool:
        return _joined(chunks, pool.map(task, chunks), done)


def _receive_shared(shared) -> None:
    global _shared_with_worker
    _shared_with_worker = shared


def _with_shared(function, chunk: list) -> list:
    return function(chunk, _shared_with_worker)


def _joined(chunks: list[list], results, done) -> list:
    joined = []
    for chunk, result in zip(chunks, results):
        joined.extend(result)
        if done is not None:
            done(len(chunk))
    return joined
