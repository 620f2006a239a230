#!/usr/bin/env python3
"""What the seed-aware defaults cost: the training script's wall time, side by side.

Runs ``train_multimodal_lstm.py`` on one data file (default: the demo's) in three ways, each in a
fresh process, one after another, and reports the wall time of each and its ratio to the first:

- ``one seed, sequential``: the defaults before seeds were the default (one seed, every model
  trained in turn in the main process with PyTorch's default threads): ``--seeds 42
  --train-workers 1``;
- ``5 seeds, sequential``: today's defaults, but trained in turn in the main process
  (``--train-workers 1``);
- ``5 seeds, defaults``: today's defaults (on a CPU, one worker process per core, one thread
  each).

Each run writes its outputs to a temporary directory. Times vary between runs of a shared
machine: run it on a quiet one and report the fastest of ``--repeats``.

    python benchmarks/benchmark_training_defaults.py --data demo/multimodal_data.npz
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TRAIN_SCRIPT = REPO_ROOT / "train_multimodal_lstm.py"
CASES = {
    "one seed, sequential (the former defaults)": ["--seeds", "42", "--train-workers", "1"],
    "5 seeds, sequential": ["--train-workers", "1"],
    "5 seeds, defaults": [],
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", default="demo/multimodal_data.npz", help="multimodal data file to train on"
    )
    parser.add_argument("--repeats", type=int, default=1, help="runs per case; the fastest counts")
    parser.add_argument(
        "--cases",
        nargs="+",
        choices=range(len(CASES)),
        type=int,
        default=list(range(len(CASES))),
        help="which cases to run, by position (0 1 2)",
    )
    parser.add_argument("--output", default=None, help="also write the results as JSON here")
    return parser.parse_args(argv)


def time_training(data: str, extra: list[str]) -> float:
    with tempfile.TemporaryDirectory() as out_dir:
        command = [sys.executable, str(TRAIN_SCRIPT), "--data", data, "--out-dir", out_dir]
        started = time.perf_counter()
        subprocess.run([*command, "--quiet", *extra], check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - started


def markdown(record: dict) -> str:
    """The timings of ``record`` (this script's JSON) as a table, each against the first case."""
    seconds = record["seconds"]
    reference = seconds.get(next(iter(CASES)))
    lines = ["| run | flags | wall time | vs one seed |", "|---|---|---|---|"]
    for name, value in seconds.items():
        ratio = f"{value / reference:.2f}x" if reference else "n/a"
        flags = " ".join(CASES[name]) or "(none)"
        lines.append(f"| {name} | `{flags}` | {value:.1f} s | {ratio} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    names = list(CASES)
    seconds = {}
    for index in args.cases:
        name = names[index]
        times = [time_training(args.data, CASES[name]) for _ in range(args.repeats)]
        seconds[name] = min(times)
        print(f"{name}: {seconds[name]:.1f} s (runs: {', '.join(f'{t:.1f}' for t in times)})")
    record = {
        "data": args.data,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "seconds": seconds,
        "repeats": args.repeats,
    }
    print(f"\nMachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(markdown(record))
    if args.output:
        Path(args.output).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
