#!/usr/bin/env python3
"""Write the example `multimodal_results.json` in docs/results.md from a real run, never by hand.

docs/results.md's "## Example" section shows two commands and, between
``<!-- results-example:begin -->`` and ``<!-- results-example:end -->``, the file they write,
trimmed for reading by the rules below. This script runs the section's commands as the doc shows
them (with ``--quiet``; in a temporary folder, or in ``--workdir DIR``, which keeps ``DIR/out``),
or reads a finished run's file with ``--results``, and writes the trimmed file into the block.

Trimming rules (the paragraph above the block in the doc says the same in words):

- ``SHOW``: an object shows only some of its entries (one model where the file has one per
  model, a few seeds, versions and pairing counts); each run of left-out entries becomes one bare
  ``...`` line, in the place where the entries were.
- ``ELIDE``: a value shown as ``{...}``, ``[...]`` or ``"..."`` (pairs that repeat the shape of
  the one shown in full, definitions already printed above).
- A list of more than ``LIST_LIMIT`` items shows its first ``LIST_HEAD`` and then ``...``.
- Floats are rounded to ``DECIMALS`` decimals; integers, strings, booleans and ``null`` stay as
  they are (sha256 values whole).
- Paths under the run's output directory are shown relative to it as ``out/...``; other absolute
  paths (the embedding model's folder in site-packages) as ``"..."``.
- An object or list is printed on one line when that line fits in ``WIDTH`` characters, a list
  of numbers or strings always; everything else is indented like ``json.dumps(indent=2)``.

Every top-level key of the file appears. ``--check`` ignores the values that change from run to
run (``VOLATILE``: creation and training times, seconds, the data files' sha256), so it passes
against a fresh run on the same software.

    python scripts/results_example.py                          # run the doc's commands, write
    python scripts/results_example.py --workdir /tmp/example   # the same, keeping /tmp/example/out
    python scripts/results_example.py --results out/multimodal_results.json
    add --check to compare only
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import NamedTuple

import marked_blocks

REPO_ROOT = Path(__file__).resolve().parents[1]
DOC = REPO_ROOT / "docs" / "results.md"
BLOCK = "results-example"
OUT = "out"  # the output folder the doc's commands name, and how paths under it are shown
DECIMALS = 4
LIST_LIMIT, LIST_HEAD = 6, 3
WIDTH = 100
MODELS_SHOWN = ("multimodal", "vital_only", "text_only")


class Show(NamedTuple):
    """Which entries of an object are shown: ``only`` these keys, or the ``first`` n."""

    only: tuple[str, ...] = ()
    first: int | None = None


# Paths into the file; "*" matches any key.
SHOW = {
    ("metrics",): Show(only=("multimodal",)),
    ("confidence_intervals",): Show(only=("multimodal", "multimodal_minus_vital_only")),
    ("comparisons", "pairs"): Show(
        only=(
            "multimodal_minus_notes_shuffled",
            "multimodal_minus_vital_only",
            "notes_shuffled_minus_vital_only",
        )
    ),
    ("comparisons", "models"): Show(only=("multimodal",)),
    ("seeds", "trained_seeds"): Show(only=MODELS_SHOWN),
    ("seeds", "test_auroc"): Show(first=2),
    ("seeds", "test_auroc", "*"): Show(only=MODELS_SHOWN),
    ("seeds", "mean_test_auroc"): Show(only=MODELS_SHOWN),
    ("seeds", "sd_test_auroc"): Show(only=MODELS_SHOWN),
    ("seeds", "mean_test_auroc_ci"): Show(only=MODELS_SHOWN),
    ("subgroups", "by", "*", "*", "auroc"): Show(only=("multimodal",)),
    ("model_parameters",): Show(only=("multimodal", "vital_only")),
    ("architecture",): Show(only=("multimodal", "vital_only")),
    ("training",): Show(only=("multimodal",)),
    ("run", "versions"): Show(only=("python", "torch")),
    ("meta", "pairing"): Show(
        only=(
            "method",
            "seed",
            "samples",
            "clinically_linked",
            "timing_checked",
            "candidate_links",
            "eligible_links",
            "notes_after_prediction_time",
        )
    ),
    ("meta", "versions"): Show(only=("python",)),
    ("files", "figures"): Show(first=1),
}
# The controls other than the within-class shuffle (the one the leak rule reads) are left out.
CONTROLS_SHOWN = (
    "ran",
    "fused_gain_auroc",
    "fused_gain_ci",
    "fused_gain_established",
    "notes_gain_auroc",
    "notes_gain_ci",
    "notes_gain_established",
    "clinically_linked",
    "notes_shuffled_within_class",
    "label_leak_suspected",
    "label_leak_rule",
)
SHOW[("controls",)] = Show(only=CONTROLS_SHOWN)
ELIDE = (
    ("comparisons", "pairs", "multimodal_minus_notes_shuffled", "brier"),
    ("comparisons", "pairs", "multimodal_minus_notes_shuffled", "idi"),
    ("comparisons", "pairs", "multimodal_minus_notes_shuffled", "idi_recalibrated"),
    ("comparisons", "pairs", "multimodal_minus_vital_only"),
    ("comparisons", "pairs", "notes_shuffled_minus_vital_only"),
    ("added_value", "delta_brier_raw", "definition"),
    ("added_value", "idi_raw", "definition"),
    ("subgroups", "by", "*", "*", "differences", "multimodal_minus_notes_shuffled"),
)
# Keys whose values differ between two runs of the same commands; --check ignores them.
VOLATILE = ("created_utc", "trained_utc", "seconds", "data_sha256", "vitals_sha256")


class Gap:
    """Left-out entries: printed as a bare ``...`` (so the block is not valid JSON)."""

    def __repr__(self) -> str:
        return "..."


class Raw(str):
    """A value printed as is: ``{...}`` or ``[...]``."""


GAP = Gap()


def matches(pattern: tuple[str, ...], path: tuple[str, ...]) -> bool:
    return len(pattern) == len(path) and all(p in ("*", k) for p, k in zip(pattern, path))


def rule_for(rules, path: tuple[str, ...]):
    found = [rule for pattern, rule in rules.items() if matches(pattern, path)]
    return found[0] if found else None


def elided(value):
    if isinstance(value, dict):
        return Raw("{...}")
    if isinstance(value, list):
        return Raw("[...]")
    return "..." if isinstance(value, str) else value


def is_absolute(text: str) -> bool:
    if "\n" in text or " " in text:
        return False
    return PurePosixPath(text).is_absolute() or PureWindowsPath(text).is_absolute()


def show_path(text: str, prefixes: tuple[str, ...]) -> str:
    """A path under the output directory as ``out/...``; another absolute path as ``...``."""
    for prefix in prefixes:
        if text == prefix or text.startswith(prefix + "/"):
            return OUT + text[len(prefix) :]
    return "..." if is_absolute(text) else text


def output_prefixes(results: dict) -> tuple[str, ...]:
    """How the run's files name their output directory: the results file's and data file's."""
    prefixes = set()
    for path in (
        results.get("files", {}).get("results"),
        results.get("run", {}).get("config", {}).get("data_file"),
    ):
        if isinstance(path, str) and "/" in path:
            prefix = path.rsplit("/", 1)[0]
            if prefix and prefix != OUT:
                prefixes.add(prefix)
    return tuple(sorted(prefixes, key=len, reverse=True))


def trim(value, prefixes: tuple[str, ...] = (), path: tuple[str, ...] = ()):
    """``value`` trimmed by the rules above; ``prefixes`` name the output directory."""
    if path and any(matches(pattern, path) for pattern in ELIDE):
        return elided(value)
    if isinstance(value, dict):
        show = rule_for(SHOW, path)
        keys = list(value)
        if show is not None:
            kept = set(keys[: show.first] if show.first is not None else show.only)
        else:
            kept = set(keys)
        trimmed = {}
        for key in keys:
            if key in kept:
                trimmed[key] = trim(value[key], prefixes, (*path, str(key)))
            elif not trimmed or not isinstance(list(trimmed)[-1], Gap):
                trimmed[Gap()] = None
        return trimmed
    if isinstance(value, list):
        items = value if len(value) <= LIST_LIMIT else value[:LIST_HEAD]
        trimmed = [trim(item, prefixes, (*path, "[]")) for item in items]
        return trimmed + [GAP] if len(items) < len(value) else trimmed
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        rounded = round(value, DECIMALS)
        return 0.0 if rounded == 0 else rounded
    if isinstance(value, str):
        return show_path(value, prefixes)
    return value


def scalar(value) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, Gap):
        return "..."
    return json.dumps(value, ensure_ascii=False)


def is_scalar(value) -> bool:
    return not isinstance(value, dict | list) or isinstance(value, Raw)


def entry(key, text: str) -> str:
    """An object's entry; a gap is a bare ``...`` whatever its value."""
    return "..." if isinstance(key, Gap) else f"{json.dumps(key, ensure_ascii=False)}: {text}"


def one_line(value) -> str:
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{" + ", ".join(entry(k, one_line(v)) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(one_line(item) for item in value) + "]"
    return scalar(value)


def render(value, indent: int = 0, lead: str = "") -> str:
    """``value`` as indented JSON text; ``lead`` is what precedes it on its first line."""
    line = one_line(value)
    if is_scalar(value) or (isinstance(value, list) and all(map(is_scalar, value))):
        return line
    if indent + len(lead) + len(line) + 1 <= WIDTH or not value:
        return line
    inner = " " * (indent + 2)
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            head = entry(key, "")
            parts.append(head if isinstance(key, Gap) else head + render(item, indent + 2, head))
        body = ",\n".join(inner + part for part in parts)
        return "{\n" + body + "\n" + " " * indent + "}"
    body = ",\n".join(inner + render(item, indent + 2) for item in value)
    return "[\n" + body + "\n" + " " * indent + "]"


def example_block(results: dict) -> str:
    """The block's body: the trimmed file in a ``json`` code fence."""
    return "```json\n" + render(trim(results, output_prefixes(results))) + "\n```"


def read_block(doc: str) -> str:
    return marked_blocks.read_block(doc, BLOCK, "docs/results.md")


def replace_block(doc: str, body: str) -> str:
    return marked_blocks.replace_block(doc, BLOCK, body, "docs/results.md")


def mask_volatile(text: str) -> str:
    """``text`` with the values of the ``VOLATILE`` keys replaced by ``*``."""
    keys = "|".join(map(re.escape, VOLATILE))
    value = r'"[^"]*"|\{[^{}]*\}|[^,\n}]+'
    return re.sub(rf'"({keys})": (?:{value})', r'"\1": *', text)


def doc_commands(doc: str) -> list[list[str]]:
    """The commands of the first ``bash`` block after "## Example", each as argv."""
    section = doc.split("\n## Example", 1)
    match = re.search(r"```bash\n(.*?)\n```", section[-1], re.DOTALL) if len(section) > 1 else None
    if match is None:
        raise SystemExit('docs/results.md has no ```bash block under "## Example"')
    commands = [shlex.split(line) for line in match.group(1).replace("\\\n", " ").splitlines()]
    for argv in commands:
        if len(argv) < 2 or argv[0] != "python" or not (REPO_ROOT / argv[1]).is_file():
            raise SystemExit(f"not a command of this repository: {shlex.join(argv)}")
    return [argv[1:] for argv in commands if argv]


def run_commands(commands: list[list[str]], workdir: Path) -> Path:
    """Run the commands in ``workdir`` as the doc shows them; the results file they write."""
    workdir.mkdir(parents=True, exist_ok=True)
    for argv in commands:
        quiet = [] if "--quiet" in argv else ["--quiet"]
        print(f"$ (cd {workdir}) python {shlex.join([*argv, *quiet])}", flush=True)
        script = str(REPO_ROOT / argv[0])
        subprocess.run([sys.executable, script, *argv[1:], *quiet], cwd=workdir, check=True)
    return workdir / OUT / "multimodal_results.json"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--results", type=Path, metavar="JSON", help="a finished run's results file (no run)"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        metavar="DIR",
        help="run the commands in DIR (outputs in DIR/out); default: a temporary folder",
    )
    parser.add_argument(
        "--check", action="store_true", help="only compare; exit 1 when the doc differs"
    )
    args = parser.parse_args(argv)
    if args.results and args.workdir:
        parser.error("give --results or --workdir, not both")
    doc = DOC.read_text(encoding="utf-8")
    read_block(doc)
    if args.results:
        results = json.loads(args.results.read_text(encoding="utf-8"))
    elif args.workdir:
        results_file = run_commands(doc_commands(doc), args.workdir)
        results = json.loads(results_file.read_text(encoding="utf-8"))
    else:
        with tempfile.TemporaryDirectory(prefix="results-example-") as work:
            results_file = run_commands(doc_commands(doc), Path(work))
            results = json.loads(results_file.read_text(encoding="utf-8"))
    updated = replace_block(doc, example_block(results))
    if args.check:
        same = mask_volatile(updated) == mask_volatile(doc)
        print("docs/results.md example " + ("matches" if same else "differs"))
        return 0 if same else 1
    DOC.write_text(updated, encoding="utf-8")
    print("docs/results.md example " + ("rewritten" if updated != doc else "already current"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
