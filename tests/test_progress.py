"""Progress bars at a terminal, plain lines in a log file (base/progress.py), and both scripts'
output when it is sent to a file."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

import pytest

from multimodal_deterioration.base import progress
from multimodal_deterioration.base.progress import (
    is_terminal,
    line_writer,
    progress_bar,
    shows_progress_bars,
    write_line,
)

from helpers import REPO_ROOT


class Stream(io.StringIO):
    """A text stream that says whether it is a terminal."""

    def __init__(self, terminal: bool):
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


def count_through(bar) -> None:
    with bar:
        for _ in bar:
            pass


def test_a_bar_is_drawn_at_a_terminal():
    terminal = Stream(terminal=True)
    count_through(progress_bar(range(3), stream=terminal, desc="epochs"))
    assert "epochs" in terminal.getvalue() and "\r" in terminal.getvalue()


def test_no_bar_is_drawn_into_a_file_or_a_pipe():
    log = Stream(terminal=False)
    count_through(progress_bar(range(3), stream=log, desc="epochs"))
    assert log.getvalue() == ""


def test_a_disabled_bar_is_not_drawn_even_at_a_terminal():
    terminal = Stream(terminal=True)
    count_through(progress_bar(range(3), enabled=False, stream=terminal))
    assert terminal.getvalue() == ""


def test_an_undrawn_bar_takes_the_same_calls():
    with progress_bar(total=5, stream=Stream(terminal=False)) as bar:
        bar.update(2)
        bar.set_postfix(best="0.7")


def test_the_bar_follows_standard_error_by_default(monkeypatch):
    terminal = Stream(terminal=True)
    monkeypatch.setattr(sys, "stderr", terminal)
    assert shows_progress_bars()
    count_through(progress_bar(range(2), desc="default"))
    assert "default" in terminal.getvalue()
    monkeypatch.setattr(sys, "stderr", Stream(terminal=False))
    assert not shows_progress_bars()


def test_a_closed_or_missing_stream_is_not_a_terminal():
    closed = open(os.devnull, "w")
    closed.close()  # isatty() on a closed file raises ValueError
    assert not is_terminal(closed)
    assert not is_terminal(None)
    assert not is_terminal(object())


def test_in_a_notebook_bars_are_widgets_and_are_shown(monkeypatch):
    monkeypatch.setattr(progress, "draws_as_widget", lambda: True)
    assert shows_progress_bars(Stream(terminal=False))


def test_print_becomes_a_flushed_line_above_the_bars_and_other_logs_are_kept(capsys):
    assert line_writer(print) is write_line
    lines: list[str] = []
    assert line_writer(lines.append) == lines.append
    assert line_writer(None) is None
    write_line("epoch 1/2")
    assert capsys.readouterr().out == "epoch 1/2\n"


# --- the scripts, with their output sent to a file --------------------------------------------


def run_logged(script: str, *args: str):
    """Run a script as a batch job would: stdout and stderr are pipes, not a terminal. The output
    stays bytes, because text mode would turn a bar's carriage return into a newline."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / script), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-3000:]
    return result.stdout.decode(), result.stderr.decode()


EPOCH_LINE = re.compile(r"^(\S+) \(seed 42\) epoch +(\d+)/2  train loss ", re.MULTILINE)
FINISHED_LINE = re.compile(r"^(\S+) \(seed 42\): .*restored epoch \d", re.MULTILINE)
TRAINED = ["multimodal", "vital_only", "notes_shuffled"]  # --ablations off


@pytest.mark.slow
def test_a_run_logged_to_a_file_has_plain_lines_and_no_bar_redraws(tmp_path):
    outputs = [
        run_logged(
            "download_and_prepare_clinical_notes.py",
            *("--demo", "--demo-patients", "200", "--out-dir", str(tmp_path)),
        )
    ]
    training = ["--data", str(tmp_path / "multimodal_data.npz"), "--epochs", "2", "--seeds", "42"]
    training += ["--ablations", "off", "--bootstrap", "50"]
    for workers in ("1", "2"):
        out_dir = str(tmp_path / f"workers-{workers}")
        outputs.append(
            run_logged(
                "train_multimodal_lstm.py",
                *training,
                "--train-workers",
                workers,
                "--out-dir",
                out_dir,
            )
        )
    for stdout, stderr in outputs:
        assert "\r" not in stdout and "\r" not in stderr
        assert "it/s]" not in stderr and "%|" not in stderr  # no bar drawn once either
    (prepared, _), (sequential, _), (parallel, _) = outputs
    assert "== Embeddings" in prepared
    # One after another: one line per epoch of each training, then one when it ends.
    epochs = [(name, int(epoch)) for name, epoch in EPOCH_LINE.findall(sequential)]
    assert sorted(epochs) == sorted((name, epoch) for name in TRAINED for epoch in (1, 2))
    assert sorted(FINISHED_LINE.findall(sequential)) == sorted(TRAINED)
    # In worker processes: one line per finished training, none per epoch.
    assert EPOCH_LINE.findall(parallel) == []
    assert sorted(FINISHED_LINE.findall(parallel)) == sorted(TRAINED)
