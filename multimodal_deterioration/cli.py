"""What both scripts share at the command line: error handling, interrupts, stage timing."""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Callable, Iterator, Sequence

from .errors import PipelineError

INTERRUPTED_EXIT_STATUS = 130  # the shell's convention for a process ended by Ctrl-C


def run_cli(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None, resume_hint: str) -> int:
    """Run ``main``; turn anticipated errors into one stderr line and exit status 2.

    ``--debug`` shows the full traceback instead.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in arguments
    try:
        return main(arguments)
    except PipelineError as error:
        if debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return error.exit_status
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"\ninterrupted: no final output was replaced; {resume_hint}", file=sys.stderr)
        return INTERRUPTED_EXIT_STATUS


class StageLog:
    """Prints a header per pipeline stage and keeps each stage's wall time for the summary."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.seconds: dict[str, float] = {}

    def say(self, message: str) -> None:
        if self.enabled:
            print(message, flush=True)

    @contextlib.contextmanager
    def stage(self, title: str) -> Iterator[None]:
        self.say(f"\n== {title}")
        start = time.perf_counter()
        yield
        self.seconds[title] = time.perf_counter() - start

    def timing_lines(self) -> list[str]:
        return [f"  {title:<34} {seconds:7.1f} s" for title, seconds in self.seconds.items()]
