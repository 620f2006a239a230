"""What both scripts share at the command line: flags built from the declared settings, the
common flags, error handling, interrupts, stage timing and the closing footer.

Output is for people at a terminal and for log files alike: a stage header is one line, and
progress bars (:mod:`multimodal_deterioration.base.progress`) are drawn only at a terminal."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .devices import DEVICE_CHOICES
from .errors import PipelineError
from .settings import SettingError

INTERRUPTED_EXIT_STATUS = 130  # the shell's convention for a process ended by Ctrl-C


def run_cli(
    main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None, resume_hint: str
) -> int:
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


def flag_of(config_class: type, name: str) -> str:
    """The command-line flag of one declared setting."""
    field = next(f for f in dataclasses.fields(config_class) if f.name == name)
    return field.metadata.get("flag") or "--" + name.replace("_", "-")


def add_setting_flags(
    group: argparse._ActionsContainer,
    config_class: type,
    defaults: Mapping[str, Any],
    names: Sequence[str],
) -> None:
    """One flag per named setting of ``config_class``, its help line from the declaration.

    ``defaults`` are the script's top-of-file constants (the declared defaults unless a user
    edited them); ``--help`` shows them. A boolean setting that defaults to true gets the
    flag that turns it off.
    """
    fields = {f.name: f for f in dataclasses.fields(config_class)}
    for name in names:
        meta = fields[name].metadata
        default = defaults[name]
        flag = flag_of(config_class, name)
        if isinstance(default, bool):
            action = "store_false" if default else "store_true"
            group.add_argument(flag, dest=name, action=action, default=default, help=meta["help"])
            continue
        shown = "" if default is None else " (default: %(default)s)"
        kind = meta["kind"] or (type(default) if default is not None else str)
        group.add_argument(
            flag,
            dest=name,
            type=kind,
            default=default,
            choices=meta["choices"],
            metavar=meta["metavar"]
            or (None if meta["choices"] else flag.lstrip("-").replace("-", "_").upper()),
            help=meta["help"].replace("%", "%%") + shown,
        )


def build_settings(
    parser: argparse.ArgumentParser, config_class: type, args: argparse.Namespace, **values: Any
):
    """``config_class`` from the parsed flags (and ``values``); a setting out of range is
    reported by argparse under its flag name, exit status 2."""
    names = {f.name for f in dataclasses.fields(config_class)}
    arguments = {name: getattr(args, name) for name in names if hasattr(args, name)}
    try:
        return config_class(**{**arguments, **values})
    except SettingError as error:
        parser.error(f"{flag_of(config_class, error.name)} {error.requirement}")


def add_common_flags(parser: argparse.ArgumentParser, out_dir: str, device: str) -> None:
    """The flags both scripts take: output directory, device, quiet and debug."""
    parser.add_argument(
        "--out-dir",
        default=out_dir,
        help="where every output is written (default: current directory)",
    )
    parser.add_argument(
        "--device",
        default=device,
        choices=DEVICE_CHOICES,
        help="auto uses CUDA when available (default: %(default)s)",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bars (ours or the libraries') or stage headers; errors and the summary "
        "only. Bars are drawn only at a terminal: output sent to a file gets plain lines",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")


def silence_library_progress() -> None:
    """Turn off the progress bars of the Hugging Face libraries (e.g. transformers' "Loading
    weights"), which ignore our --quiet and redraw into a log file as they would at a terminal;
    call it under --quiet and wherever ours are not drawn
    (:func:`multimodal_deterioration.base.progress.shows_progress_bars`)."""
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()


def print_footer(log: StageLog, seconds: float, paths: Sequence[Path]) -> None:
    """The closing block of both scripts: time per stage, then every file written."""
    print("Time per stage:")
    print("\n".join(log.timing_lines()))
    print(f"  {'total':<34} {seconds:7.1f} s")
    print("Wrote:")
    for path in paths:
        print(f"  {path}")
