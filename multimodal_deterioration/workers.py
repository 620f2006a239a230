"""Worker processes for the per-note stages: sentence splitting, features, key sentences.

Each stage hands ``in_worker_processes`` a function over a list of notes; the result is the same
for any number of workers.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

# Notes per task sent to a worker process: large enough that pickling is a small share.
NOTES_PER_TASK = 256


def available_cores() -> int:
    """CPU cores this process may use (its affinity where the OS tells, else all)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def in_worker_processes(function, items: list, workers: int, done=None) -> list:
    """``function`` over chunks of ``items``, results concatenated in order; in worker processes
    when ``workers > 1`` and there is more than one chunk. Same result either way. ``done(n)``
    is called as each chunk of n items finishes (for a progress bar)."""
    chunks = [items[i : i + NOTES_PER_TASK] for i in range(0, len(items), NOTES_PER_TASK)]
    if workers <= 1 or len(chunks) <= 1:
        return _joined(chunks, map(function, chunks), done)
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
        return _joined(chunks, pool.map(function, chunks), done)


def _joined(chunks: list[list], results, done) -> list:
    joined = []
    for chunk, result in zip(chunks, results):
        joined.extend(result)
        if done is not None:
            done(len(chunk))
    return joined
