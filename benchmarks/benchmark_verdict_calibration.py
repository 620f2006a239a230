"""Benchmark whether the training script's verdict on the notes is calibrated.

The question: when the notes carry no information, how often does ``train_multimodal_lstm.py``
still claim that they add value, and how often does it raise the label-leak warning? And when
they do carry information, how often is the gain detected?

From one prepared ``multimodal_data.npz`` (the demo's by default) the benchmark builds K pairs of
data files:

- **real** replicate k: a random subset of ``--fraction`` of each split, stratified by label and
  seeded by k; every per-sample array (``X_vital_*``, ``X_text_*``, ``y_*``, ``ids_*``,
  ``times_*``, ``note_index_*``, ``note_count_*`` and any other array with one row per sample of
  a split) is subset with the same rows, so the file stays aligned row for row; ``feature_names``
  and ``meta`` are kept, and ``meta["benchmark"]`` describes the replicate.
- **null** replicate k: the same subset with the ``X_text_*`` rows permuted within each split
  (a seeded random permutation), so the notes no longer describe the sample they sit beside.
  Every other array is identical to the real twin's.

Each file is trained with the training script's defaults, as a user runs it
(``python train_multimodal_lstm.py --data FILE --out-dir DIR --quiet`` plus ``--extra-args``),
and ``multimodal_results.json`` is read back. A run **claims a gain** when
``added_value.verdict`` is one of ``GAIN_CLAIM_VERDICTS``. Reported for null and real data
separately: runs, gain claims and leak warnings with exact (Clopper-Pearson) 95% CIs, the
distribution of verdicts and the mean wall time per run. Targets: null gain claims <= 5%, no leak
warning on null data; the real runs' gain-claim rate is the detection rate (power).

Runs go null_0, real_0, null_1, real_1, ... so that a run stopped early still has balanced counts;
``--resume`` skips the replicates whose record is already in ``--work-dir``.

    python benchmarks/benchmark_verdict_calibration.py --work-dir calib --resume   # K=20, hours
    python benchmarks/benchmark_verdict_calibration.py --k 2 --fraction 0.3 \\
        --extra-args "--epochs 2 --seeds 42"                                      # a quick look
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout, without installing
    sys.path.insert(0, str(REPO_ROOT))

import numpy as np
from scipy.stats import binomtest

from multimodal_deterioration.base.artifacts import read_npz, save_npz, sha256_of_file
from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.contract.multimodal_data import (
    DELONG_MIN_PER_CLASS,
    load_multimodal_data,
)
from multimodal_deterioration.evidence.verdict import CLAIMS_A_GAIN, GAIN_VERDICTS
from multimodal_deterioration.preparation.vitals import SPLITS

# Verdicts that claim the notes add value: the 95% CI of the notes' gain lies above zero,
# whether or not it clears --min-gain. Any verdict not in GAIN_VERDICTS is counted as not
# claiming a gain, with a warning, so that a new verdict is not silently misread.
GAIN_CLAIM_VERDICTS = frozenset(CLAIMS_A_GAIN)
KNOWN_VERDICTS = frozenset(GAIN_VERDICTS)
KINDS = ("null", "real")
DEFAULT_DATA = "demo/multimodal_data.npz"
DEFAULT_OUTPUT = "benchmarks/results/verdict_calibration.json"
TRAIN_SCRIPT = REPO_ROOT / "train_multimodal_lstm.py"
RESULTS_FILENAME = "multimodal_results.json"
RECORD_FILENAME = "benchmark_record.json"  # one per finished run, read back by --resume
LOG_FILENAME = "train.log"
# The benchmark chooses these flags itself; passing them through --extra-args is refused.
RESERVED_FLAGS = ("--data", "--out-dir")
TARGETS = {
    "null_gain_claim_rate_at_most": 0.05,
    "null_leak_warnings": 0,
}
SEED = 0  # base seed of the subsets and permutations; replicate k uses (seed, k)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="How often the training script claims that the notes add value when they "
        "carry no information (null), and how often it detects a real gain.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(DEFAULT_DATA),
        help="prepared multimodal_data.npz to draw the replicates from (made by "
        "python download_and_prepare_clinical_notes.py --demo --out-dir demo)",
    )
    parser.add_argument(
        "--k", type=int, default=20, help="replicates: K real and K null data files are trained"
    )
    parser.add_argument(
        "--k-null",
        type=int,
        default=None,
        help="null replicates, when more than K: showing a false-claim rate below 5%% with no "
        "claim takes 72 null runs (None: as many as --k)",
    )
    parser.add_argument(
        "--fraction",
        type=float,
        default=0.5,
        help="share of each split's samples in a replicate, drawn stratified by label",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=SEED,
        help="base seed: replicate k's subset and null permutation are seeded by (seed, k)",
    )
    parser.add_argument(
        "--kinds",
        choices=("both", *KINDS),
        default="both",
        help="train only the null or only the real replicates (e.g. to time one run)",
    )
    parser.add_argument(
        "--extra-args",
        default="",
        help="flags passed on to train_multimodal_lstm.py, as one string (shlex-split), e.g. "
        '"--epochs 2 --seeds 42"; empty: the training script\'s defaults',
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="where the data files, training outputs and per-run records go; default: a new "
        "temporary directory, removed when the benchmark completes",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="skip the replicates whose record already exists in --work-dir (same data, "
        "fraction, seed and extra args), so a long run can be continued",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(DEFAULT_OUTPUT),
        help="JSON file for the summary and every run's record (written atomically)",
    )
    args = parser.parse_args(argv)
    if args.k < 1:
        parser.error("--k must be at least 1")
    if not 0 < args.fraction <= 1:
        parser.error("--fraction must be in (0, 1]")
    if args.resume and args.work_dir is None:
        parser.error("--resume needs the --work-dir of the run to continue")
    try:
        args.extra = shlex.split(args.extra_args)
    except ValueError as error:
        parser.error(f"--extra-args: {error}")
    if any(arg.split("=", 1)[0] in RESERVED_FLAGS for arg in args.extra):
        parser.error(f"--extra-args may not set {' or '.join(RESERVED_FLAGS)}: the benchmark does")
    return args


# --- data files --------------------------------------------------------------------------------


def per_sample_keys(arrays: dict[str, np.ndarray]) -> dict[str, list[str]]:
    """Every key ``<name>_<split>`` with one row per sample of that split, by split.

    The row count of a split is its label count (``y_<split>``). A ``<name>_<split>`` array of
    another length cannot be subset consistently, so it is an error rather than copied as is.
    """
    keys: dict[str, list[str]] = {split: [] for split in SPLITS}
    pattern = re.compile(rf"^(.+)_({'|'.join(SPLITS)})$")
    for key, array in arrays.items():
        match = pattern.match(key)
        if match is None:
            continue
        split = match.group(2)
        labels = arrays.get(f"y_{split}")
        if labels is None:
            raise PipelineError(
                f"the data file has no y_{split}; the benchmark stratifies by label, so it needs "
                "a file with labels (not the reference layout)"
            )
        if array.ndim == 0 or len(array) != len(labels):
            raise PipelineError(
                f"{key} has shape {array.shape} but the {split} split has {len(labels)} samples; "
                "a per-split array must have one row per sample"
            )
        keys[split].append(key)
    for split in SPLITS:
        if f"y_{split}" not in arrays:
            raise PipelineError(f"the data file has no y_{split}")
    return keys


def stratified_subset(y: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Sorted row indices: ``round(fraction * n_c)`` rows of each label c, drawn without
    replacement, and at least ``DELONG_MIN_PER_CLASS`` of each (the training script needs two
    of each class in the test split), or all of them when there are fewer."""
    labels = np.asarray(y).reshape(-1)
    chosen = []
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        size = min(len(rows), max(DELONG_MIN_PER_CLASS, round(fraction * len(rows))))
        chosen.append(rng.choice(rows, size=size, replace=False))
    return np.sort(np.concatenate(chosen))


def replicate_rng(seed: int, k: int, purpose: str, split: str) -> np.random.Generator:
    """An independent stream per (seed, replicate, purpose, split)."""
    return np.random.default_rng(
        [seed, k, ("subset", "permutation").index(purpose), SPLITS.index(split)]
    )


def build_replicate(
    arrays: dict[str, np.ndarray], k: int, fraction: float, seed: int, source: dict
) -> dict[str, dict[str, np.ndarray]]:
    """The real and null data files of replicate ``k`` (see the module docstring), as arrays.

    ``source`` (path and sha256 of the input) is recorded in ``meta["benchmark"]``.
    """
    keys = per_sample_keys(arrays)
    real = {key: value for key, value in arrays.items() if key != "meta"}
    null = dict(real)
    for split in SPLITS:
        rows = stratified_subset(
            arrays[f"y_{split}"], fraction, replicate_rng(seed, k, "subset", split)
        )
        for key in keys[split]:
            real[key] = null[key] = arrays[key][rows]
        permutation = replicate_rng(seed, k, "permutation", split).permutation(len(rows))
        null[f"X_text_{split}"] = real[f"X_text_{split}"][permutation]
    meta = json.loads(str(arrays["meta"])) if "meta" in arrays else {}
    files = {}
    for kind, payload in (("real", real), ("null", null)):
        description = (
            "stratified subset; notes as prepared"
            if kind == "real"
            else "the real twin's subset with X_text rows permuted within each split: the notes "
            "carry no information about their sample"
        )
        replicate_meta = dict(meta)
        replicate_meta["benchmark"] = {
            "script": "benchmarks/benchmark_verdict_calibration.py",
            "kind": kind,
            "replicate": k,
            "fraction": fraction,
            "seed": seed,
            "source": source,
            "samples": {split: int(len(payload[f"y_{split}"])) for split in SPLITS},
            "description": description,
        }
        files[kind] = {**payload, "meta": np.array(json.dumps(replicate_meta))}
    return files


def write_data_file(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` as the preparation script does (compressed .npz, atomic) and check that
    the training script's loader accepts it.

    ``multimodal_data.save_multimodal_data`` writes only the arrays a ``MultimodalSplit`` holds;
    the raw keys are written instead so that every array of the input (``times_*`` included)
    travels, with its dtype.
    """
    save_npz(path, **arrays)
    load_multimodal_data(path).require_both_classes()
    return path


# --- runs --------------------------------------------------------------------------------------


def run_name(kind: str, k: int) -> str:
    return f"{kind}_{k}"


def replicate_settings(args: argparse.Namespace, data_sha256: str) -> dict:
    """What a run's record must match for --resume to reuse it."""
    return {
        "data_sha256": data_sha256,
        "fraction": args.fraction,
        "seed": args.seed,
        "extra_args": args.extra,
    }


def read_record(path: Path, expected: dict) -> dict | None:
    """A finished run's record, if it exists and was made with ``expected`` settings."""
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    made_with = record.get("replicate_settings") or {}
    if made_with != expected:
        differ = ", ".join(
            f"{key} {made_with.get(key)!r} (now {value!r})"
            for key, value in expected.items()
            if made_with.get(key) != value
        )
        raise PipelineError(
            f"{path} was made with other settings: {differ}; use another --work-dir, or drop "
            "--resume to retrain"
        )
    return record


def train(data_file: Path, out_dir: Path, extra: list[str]) -> tuple[dict, float]:
    """Run the training script on ``data_file``; its results and the wall seconds it took."""
    out_dir.mkdir(parents=True, exist_ok=True)
    results_path = out_dir / RESULTS_FILENAME
    results_path.unlink(missing_ok=True)  # never read a previous attempt's results
    command = [sys.executable, str(TRAIN_SCRIPT), "--data", str(data_file)]
    command += ["--out-dir", str(out_dir), "--quiet", *extra]
    started = time.perf_counter()
    with open(out_dir / LOG_FILENAME, "w") as log:
        completed = subprocess.run(
            command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, check=False
        )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        tail = (out_dir / LOG_FILENAME).read_text().strip().splitlines()[-5:]
        raise PipelineError(
            f"training on {data_file} exited with {completed.returncode}; "
            f"last lines of {out_dir / LOG_FILENAME}:\n  " + "\n  ".join(tail)
        )
    return json.loads(results_path.read_text()), seconds


def run_record(kind: str, k: int, results: dict, seconds: float, settings: dict) -> dict:
    """The per-run record; only ``added_value.verdict`` is required of the results."""
    added_value = results.get("added_value") or {}
    controls = results.get("controls") or {}
    verdict = added_value.get("verdict")
    if verdict is None:
        raise PipelineError(f"{kind}_{k}: the results have no added_value.verdict")
    leak = controls.get("label_leak_suspected")
    difference = (results.get("confidence_intervals") or {}).get("multimodal_minus_vital_only")
    return {
        "kind": kind,
        "k": k,
        "wall_seconds": round(seconds, 2),
        "verdict": verdict,
        "statement": added_value.get("statement"),
        "claims_gain": verdict in GAIN_CLAIM_VERDICTS,
        "label_leak_suspected": None if leak is None else bool(leak),
        "multimodal_auroc": results.get("multimodal_auroc"),
        "vital_only_auroc": results.get("vital_only_auroc"),
        "auroc_difference_ci": (difference or {}).get("auroc"),
        "device": (results.get("run") or {}).get("device"),
        "replicate_settings": settings,
        "added_value": added_value,
        "controls": controls,
    }


# --- summary -----------------------------------------------------------------------------------


def proportion(count: int, total: int) -> dict:
    """``count`` of ``total`` with its rate and exact (Clopper-Pearson) 95% CI."""
    if total == 0:
        return {"count": count, "of": 0, "rate": None, "ci95": None}
    interval = binomtest(count, total).proportion_ci(method="exact")
    return {
        "count": count,
        "of": total,
        "rate": count / total,
        "ci95": [float(interval.low), float(interval.high)],
    }


def summarize(records: list[dict]) -> dict:
    summary = {}
    for kind in KINDS:
        runs = [r for r in records if r["kind"] == kind]
        flagged = [r for r in runs if r["label_leak_suspected"] is not None]
        summary[kind] = {
            "runs": len(runs),
            "gain_claims": proportion(sum(r["claims_gain"] for r in runs), len(runs)),
            # rate over the runs whose controls ran (the flag is absent otherwise)
            "leak_warnings": proportion(
                sum(r["label_leak_suspected"] for r in flagged), len(flagged)
            ),
            "runs_without_leak_flag": len(runs) - len(flagged),
            "verdicts": dict(Counter(r["verdict"] for r in runs).most_common()),
            # The same runs read by other rules: the seed-aware comparison with vital-only, and
            # the rule before seed-aware verdicts (the main seed's fused minus vital-only, CI
            # over test rows only, above zero).
            "vital_only_comparison_claims": proportion(
                sum(
                    ((r.get("added_value") or {}).get("over_vital_only") or {}).get("verdict")
                    in GAIN_CLAIM_VERDICTS
                    for r in runs
                ),
                len(runs),
            ),
            "former_rule_claims": proportion(
                sum(
                    bool(r.get("auroc_difference_ci")) and r.get("auroc_difference_ci")[0] > 0
                    for r in runs
                ),
                len(runs),
            ),
            "notes_gain": spread_of_gains(runs),
            "mean_wall_seconds": (
                sum(r["wall_seconds"] for r in runs) / len(runs) if runs else None
            ),
        }
    return summary


def spread_of_gains(runs: list[dict]) -> dict | None:
    """The notes' gain over the replicates: its mean and SD, and the SD the runs' own 95% CIs
    imply (half-width / 1.96, averaged): close to the observed SD when the intervals are
    calibrated, larger when they are conservative."""
    added = [r.get("added_value") or {} for r in runs]
    gains = [a.get("gain_auroc") for a in added]
    widths = [a.get("gain_auroc_ci") for a in added]
    if not runs or any(g is None for g in gains) or any(w is None for w in widths):
        return None
    return {
        "mean": float(np.mean(gains)),
        "sd": float(np.std(gains, ddof=1)) if len(gains) > 1 else None,
        "sd_implied_by_intervals": float(np.mean([(hi - lo) / (2 * 1.96) for lo, hi in widths])),
    }


def describe_machine() -> dict:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
    }


def torch_version() -> str:
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def rate_cell(result: dict) -> str:
    if not result["of"]:
        return f"{result['count']} of 0"
    low, high = result["ci95"]
    return (
        f"{result['count']}/{result['of']} = {percent(result['rate'])} "
        f"({percent(low)} to {percent(high)})"
    )


def markdown(report: dict) -> str:
    lines = [
        "| data | runs | claims a gain (exact 95% CI) | leak warning (exact 95% CI) "
        "| verdicts | mean s/run |",
        "| --- | ---: | --- | --- | --- | ---: |",
    ]
    labels = {"null": "null (notes permuted)", "real": "real (notes as prepared)"}
    for kind in KINDS:
        row = report["summary"][kind]
        if not row["runs"]:
            continue
        verdicts = ", ".join(f"{name} {count}" for name, count in row["verdicts"].items())
        leak = rate_cell(row["leak_warnings"])
        if row["runs_without_leak_flag"]:
            leak += f"; {row['runs_without_leak_flag']} run(s) without controls"
        lines.append(
            f"| {labels[kind]} | {row['runs']} | {rate_cell(row['gain_claims'])} | {leak} "
            f"| {verdicts} | {row['mean_wall_seconds']:.1f} |"
        )
    lines += [
        "",
        "| data | seed-aware fused vs vital-only claims | former rule claims (main seed vs "
        "vital-only, test rows only) | notes' gain: mean, SD over runs | SD implied by the CIs |",
        "| --- | --- | --- | --- | --- |",
    ]
    for kind in KINDS:
        row = report["summary"][kind]
        if not row["runs"]:
            continue
        gains = row.get("notes_gain")
        spread = (
            f"{gains['mean']:+.4f}, {gains['sd']:.4f}"
            if gains and gains["sd"] is not None
            else "n/a"
        )
        implied = f"{gains['sd_implied_by_intervals']:.4f}" if gains else "n/a"
        lines.append(
            f"| {labels[kind]} | {rate_cell(row['vital_only_comparison_claims'])} "
            f"| {rate_cell(row['former_rule_claims'])} | {spread} | {implied} |"
        )
    lines += [
        "",
        f"A run claims a gain when its verdict is one of {', '.join(sorted(GAIN_CLAIM_VERDICTS))}. "
        f"Targets on null data: gain claims <= {percent(TARGETS['null_gain_claim_rate_at_most'])}, "
        f"leak warnings {TARGETS['null_leak_warnings']}. On real data the gain-claim rate is the "
        "detection rate.",
    ]
    null_claims = report["summary"]["null"]["gain_claims"]
    target = TARGETS["null_gain_claim_rate_at_most"]
    if null_claims["of"] and null_claims["ci95"][1] > target:
        lines += [
            "",
            f"The null gain-claim rate's upper 95% bound ({percent(null_claims['ci95'][1])}) is "
            f"above the {percent(target)} target, so these runs do not show it is met; even with "
            f"no claims, that takes at least {runs_to_show(target)} null runs.",
        ]
    if not report["complete"]:
        lines += ["", f"INCOMPLETE: {report['stopped']}"]
    return "\n".join(lines)


def runs_to_show(rate: float) -> int:
    """The fewest runs whose exact upper 95% bound is below ``rate`` when none is a claim
    (0 of n: the bound is 1 - 0.025 ** (1 / n))."""
    n = 1
    while 1 - 0.025 ** (1 / n) >= rate:
        n += 1
    return n


def write_report(path: Path, report: dict) -> None:
    """Write ``report`` to ``path`` atomically: a temporary file beside it, then os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as tmp:
            json.dump(report, tmp, indent=2)
            tmp.write("\n")
        os.replace(tmp_name, path)
    finally:
        Path(tmp_name).unlink(missing_ok=True)


# --- main --------------------------------------------------------------------------------------


def schedule(k: int, kinds: str, k_null: int | None = None) -> list[tuple[str, int]]:
    """null_0, real_0, null_1, real_1, ...: stopping early leaves balanced counts; then the
    null replicates beyond K, when ``k_null`` asks for more."""
    chosen = KINDS if kinds == "both" else (kinds,)
    runs = [(kind, replicate) for replicate in range(k) for kind in chosen]
    if "null" in chosen and k_null is not None:
        runs += [("null", replicate) for replicate in range(k, k_null)]
    return runs


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    own_work_dir = args.work_dir is None
    if own_work_dir:
        work_dir = Path(tempfile.mkdtemp(prefix="verdict-calibration-"))
    else:  # absolute: the training script runs from the repository root
        work_dir = args.work_dir.resolve()
        work_dir.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "verdict calibration of train_multimodal_lstm.py",
        "created_utc": None,
        "complete": False,
        "stopped": None,
        "machine": describe_machine(),
        "torch": torch_version(),
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "training_command": shlex.join(
            ["python", "train_multimodal_lstm.py", "--data", "FILE", "--out-dir", "DIR", "--quiet"]
            + args.extra
        ),
        "settings": {
            "data": str(args.data),
            "k": args.k,
            "k_null": args.k_null,
            "fraction": args.fraction,
            "seed": args.seed,
            "kinds": args.kinds,
            "extra_args": args.extra_args,
            "work_dir": str(work_dir),
            "resume": args.resume,
        },
        "gain_claim_verdicts": sorted(GAIN_CLAIM_VERDICTS),
        "targets": TARGETS,
        "summary": None,
        "runs": [],
    }
    records: list[dict] = []
    exit_code = 0
    try:
        load_multimodal_data(args.data).require_both_classes()
        arrays = read_npz(args.data, "data file", "make it first", "re-create it")
        data_sha256 = sha256_of_file(args.data)
        report["settings"]["data_sha256"] = data_sha256
        settings = replicate_settings(args, data_sha256)
        source = {"path": str(args.data), "sha256": data_sha256}
        built: dict[int, dict[str, Path]] = {}
        for kind, k in schedule(args.k, args.kinds, args.k_null):
            run_dir = work_dir / "runs" / run_name(kind, k)
            record = read_record(run_dir / RECORD_FILENAME, settings) if args.resume else None
            if record is None:
                if k not in built:
                    files = build_replicate(arrays, k, args.fraction, args.seed, source)
                    built[k] = {
                        name: write_data_file(work_dir / "data" / f"{run_name(name, k)}.npz", data)
                        for name, data in files.items()
                    }
                results, seconds = train(built[k][kind], run_dir, args.extra)
                record = run_record(kind, k, results, seconds, settings)
                write_report(run_dir / RECORD_FILENAME, record)
                status = ""
            else:
                status = " (resumed: trained earlier)"
            if record["verdict"] not in KNOWN_VERDICTS:
                print(
                    f"warning: verdict {record['verdict']!r} is not known to this benchmark and "
                    "is counted as not claiming a gain; update GAIN_CLAIM_VERDICTS",
                    file=sys.stderr,
                )
            records.append(record)
            print(
                f"{kind:4} k={k:<3} verdict={record['verdict']:<18} "
                f"leak={record['label_leak_suspected']!s:<5} {record['wall_seconds']:7.1f} s"
                + status,
                flush=True,
            )
        report["complete"] = True
    except PipelineError as error:
        report["stopped"] = f"error: {error}"
        print(f"error: {error}", file=sys.stderr)
        exit_code = 1
    except KeyboardInterrupt:
        report["stopped"] = "interrupted"
        print("interrupted", file=sys.stderr)
        exit_code = 130
    report["created_utc"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    report["summary"] = summarize(records)
    report["runs"] = records
    if records or report["complete"]:
        print()
        print(markdown(report))
    write_report(args.output, report)
    print(f"\nwrote {args.output}", file=sys.stderr)
    if own_work_dir and report["complete"]:
        shutil.rmtree(work_dir, ignore_errors=True)
    elif not report["complete"]:
        print(
            f"finished runs are kept in {work_dir}; --work-dir {work_dir} --resume continues "
            "with the same settings",
            file=sys.stderr,
        )
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
