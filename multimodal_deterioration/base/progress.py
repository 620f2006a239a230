"""Progress for people at a terminal, plain lines for a log file.

A tqdm bar redraws itself in place with carriage returns. At a terminal that is one line that
moves; sent to a file (a batch job, ``nohup``, a cluster scheduler) every redraw stays in the log,
hundreds of characters each. So every bar of the package is made by :func:`progress_bar`, which
draws it only when the stream it writes to is a terminal (or when it is a notebook widget). The
progress then reads from the lines that are printed anyway: a header per pipeline stage, one line
per training epoch (or per finished training when worker processes train in parallel), written
by :func:`line_writer` so that they never tear a bar.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import IO, Any

from tqdm.auto import tqdm as auto_tqdm


def is_terminal(stream: IO | None) -> bool:
    """Whether ``stream`` is an interactive terminal (a closed or odd stream is not)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed file
        return False


def draws_as_widget() -> bool:
    """Whether tqdm draws its bars as notebook widgets (Jupyter), not as text on a stream:
    ``tqdm.auto`` then builds on ``tqdm.notebook``'s bar."""
    return any(cls.__module__ == "tqdm.notebook" for cls in auto_tqdm.__mro__)


def shows_progress_bars(stream: IO | None = None) -> bool:
    """Whether a bar written to ``stream`` (default: standard error, where tqdm writes) would be
    drawn: at a terminal or in a notebook, not into a file or a pipe."""
    return draws_as_widget() or is_terminal(sys.stderr if stream is None else stream)


def progress_bar(
    iterable: Iterable | None = None,
    *,
    enabled: bool = True,
    stream: IO | None = None,
    **options: Any,
) -> auto_tqdm:
    """A tqdm bar (``tqdm.auto``: a widget in a notebook) that draws only where it can redraw in
    place; elsewhere it counts silently, so the caller's code is the same either way.

    Args:
        iterable: what to iterate over, as for tqdm; or None and call ``update``.
        enabled: False turns the bar off everywhere (``--quiet``, a worker process).
        stream: where the bar is written (default: standard error, read when the bar is made).
        options: any other tqdm option (``total``, ``desc``, ``unit``, ...).

    Example::

        with progress_bar(total=len(texts), desc="embedding notes", unit="text") as bar:
            for batch in batches:
                ...
                bar.update(len(batch))
    """
    stream = sys.stderr if stream is None else stream
    shown = enabled and shows_progress_bars(stream)
    return auto_tqdm(iterable, file=stream, disable=not shown, **options)


def write_line(message: str) -> None:
    """Print one line to standard output above any bar being drawn, and flush it, so that a log
    file holds it as soon as it happens."""
    auto_tqdm.write(message, file=sys.stdout)
    sys.stdout.flush()


def line_writer(log: Callable[[str], None] | None) -> Callable[[str], None] | None:
    """What a loop with a bar should call for a line of ``log``: ``print`` would tear a bar being
    drawn, so it becomes :func:`write_line`; any other callable (a list's ``append``, a logger)
    and None (silence) are kept."""
    return write_line if log is print else log
