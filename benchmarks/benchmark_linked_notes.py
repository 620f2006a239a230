"""Benchmark linked notes at MIMIC scale: a 1,000,000-note NOTEEVENTS-shaped CSV to the embedding step.

The question: does a researcher with MIMIC-III ``NOTEEVENTS.csv`` (~2 million rows, ~4 GB) wait a
scan or a day? The preparation script filters notes by id, category and chart time before any
slow step, so only the notes eligible for some sample are featurised and embedded.

1. Generate (not timed) a CSV with the NOTEEVENTS columns (ROW_ID, SUBJECT_ID, HADM_ID,
   CHARTDATE, CHARTTIME, CATEGORY, DESCRIPTION, TEXT), ``--notes`` rows of multi-line text of about
   ``--text-bytes`` bytes each (1M x ~1,000 B ~ 1 GB), and vitals for ``--stays`` stays with
   ``ids_*``/``times_*``. The cohort's stays have nursing notes before and after their prediction
   time, some untimed, and discharge summaries; every other row belongs to a stay not in the
   vitals.
2. In a fresh process, with an empty ``datasets`` cache (the cold first run a user sees), run the
   preparation script's own stages up to the embedding step: ``load_vitals``, ``open_notes``
   (``datasets`` converts the CSV to a memory-mapped Arrow table), ``pair_notes_with_vitals``
   (which also reads the kept notes into memory) and ``extract_features``. Then again with the
   Arrow cache warm (a re-run). Each run reports wall time per stage and the process's peak
   resident memory (``ru_maxrss``).

    python benchmarks/benchmark_linked_notes.py                    # 1M notes, ~1 GB of disk x 2
    python benchmarks/benchmark_linked_notes.py --notes 100000     # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout, without installing
    sys.path.insert(0, str(REPO_ROOT))

import numpy as np
import pandas as pd

N_NOTES = 1_000_000
STAYS = 1_000  # 700/150/150 train/val/test; about 2,000 eligible notes in all
TEXT_BYTES = 1_000  # MIMIC-III NOTEEVENTS averages about 2 kB a note; 1 kB keeps the file ~1 GB
SPLIT_FRACTIONS = {"train": 0.70, "val": 0.15, "test": 0.15}
GENERATE_CHUNK = 100_000
START = np.datetime64("2130-01-01T00:00:00")
SENTENCES = (
    "Pt resting comfortably in bed, no acute distress noted.",
    "Resp: lungs with coarse crackles at bases, sats 94% on 2L NC.",
    "CV: HR 88-104 sinus rhythm, BP stable 110s-130s systolic.",
    "Neuro: alert and oriented x3, follows commands, moves all extremities.",
    "GI: abdomen soft, nontender, tolerating clear liquids, +BS.",
    "GU: foley draining clear yellow urine, adequate output.",
    "ID: afebrile, WBC trending down, continues on vancomycin and zosyn.",
    "Skin: intact, no breakdown noted, repositioned every 2 hours.",
    "Social: wife at bedside, updated on plan of care.",
    "Plan: continue current management, monitor lytes, wean O2 as tolerated.",
    "Chest film shows mild interstitial edema without focal consolidation.",
    "Patient complained of mild incisional pain, given morphine 2mg IV with relief.",
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--notes", type=int, default=N_NOTES, help="rows in the CSV (default: %(default)s)"
    )
    parser.add_argument(
        "--stays", type=int, default=STAYS, help="stays in the vitals (default: %(default)s)"
    )
    parser.add_argument(
        "--text-bytes",
        type=int,
        default=TEXT_BYTES,
        help="approximate bytes of text per note (default: %(default)s)",
    )
    parser.add_argument(
        "--work-dir", type=Path, help="where the CSV goes (default: a temporary directory, removed)"
    )
    parser.add_argument("--out", type=Path, help="also write the results as JSON to this file")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # internal: the child run
    return parser.parse_args(argv)


def random_texts(n: int, text_bytes: int, rng: np.random.Generator) -> list[str]:
    per_note = max(1, round(text_bytes / (np.mean([len(s) for s in SENTENCES]) + 1)))
    picks = rng.integers(0, len(SENTENCES), size=(n, per_note))
    return ["\n".join(SENTENCES[i] for i in row) for row in picks]


def generate(directory: Path, n_notes: int, n_stays: int, text_bytes: int) -> dict:
    """Write processed_data.npz and NOTEEVENTS.csv; return what the cohort holds."""
    rng = np.random.default_rng(0)
    stays = 100_000 + np.arange(n_stays)
    admitted = START + rng.integers(0, 24 * 3650, n_stays).astype("timedelta64[h]")
    predicted = admitted + np.timedelta64(24, "h")
    cohort = []  # (stay, charttime or None, category)
    for stay, admit in zip(stays, admitted):
        for _ in range(rng.integers(1, 4)):  # 1-3 nursing notes in the first 24 h: eligible
            cohort.append(
                (stay, admit + np.timedelta64(int(rng.integers(0, 24 * 60)), "m"), "Nursing/other")
            )
        cohort.append(
            (stay, admit + np.timedelta64(int(rng.integers(25, 72)), "h"), "Nursing/other")
        )
        if rng.random() < 0.3:
            cohort.append((stay, None, "Nursing/other"))
        cohort.append(
            (stay, admit + np.timedelta64(int(rng.integers(3, 10)), "D"), "Discharge summary")
        )
    n_other = n_notes - len(cohort)
    if n_other < 0:
        raise SystemExit(f"--notes {n_notes} is fewer than the cohort's {len(cohort)} notes")
    cohort_rows = np.sort(rng.choice(n_notes, len(cohort), replace=False))
    is_cohort = np.zeros(n_notes, dtype=bool)
    is_cohort[cohort_rows] = True

    path = directory / "NOTEEVENTS.csv"
    next_cohort = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        for start in range(0, n_notes, GENERATE_CHUNK):
            rows = np.arange(start, min(start + GENERATE_CHUNK, n_notes))
            hadm = 500_000 + rng.integers(0, 400_000, len(rows))  # stays not in the vitals
            times = START + rng.integers(0, 24 * 60 * 3650, len(rows)).astype("timedelta64[m]")
            charttime = pd.Series(times.astype("datetime64[s]").astype(str)).str.replace("T", " ")
            category = np.where(rng.random(len(rows)) < 0.7, "Nursing/other", "Radiology").astype(
                object
            )
            for position in np.flatnonzero(is_cohort[rows]):
                stay, when, kind = cohort[next_cohort]
                next_cohort += 1
                hadm[position] = stay
                charttime.iloc[position] = "" if when is None else str(when).replace("T", " ")
                category[position] = kind
            frame = pd.DataFrame(
                {
                    "ROW_ID": rows + 1,
                    "SUBJECT_ID": hadm // 3,
                    "HADM_ID": hadm,
                    "CHARTDATE": charttime.str[:10],
                    "CHARTTIME": charttime,
                    "CATEGORY": category,
                    "DESCRIPTION": "Report",
                    "TEXT": random_texts(len(rows), text_bytes, rng),
                }
            )
            frame.to_csv(handle, index=False, header=start == 0)

    order = rng.permutation(n_stays)
    cuts = np.cumsum([round(f * n_stays) for f in SPLIT_FRACTIONS.values()])[:-1]
    arrays = {}
    for split, members in zip(SPLIT_FRACTIONS, np.split(order, cuts)):
        arrays[f"X_{split}"] = rng.normal(size=(len(members), 24, 6)).astype(np.float32)
        arrays[f"y_{split}"] = (np.arange(len(members)) % 5 == 0).astype(np.int64)
        arrays[f"ids_{split}"] = stays[members]
        arrays[f"times_{split}"] = predicted[members].astype("datetime64[s]")
    np.savez(directory / "processed_data.npz", **arrays)
    return {"csv_bytes": path.stat().st_size, "cohort_notes": len(cohort), "rows": n_notes}


def measure(directory: Path) -> dict:
    """The preparation script's stages up to the embedding step; runs in a fresh process."""
    from multimodal_deterioration.preparation.features import extract_features
    from multimodal_deterioration.preparation.linkage import LinkageRule
    from multimodal_deterioration.preparation.notes import open_notes
    from multimodal_deterioration.preparation.pairing import pair_notes_with_vitals
    from multimodal_deterioration.preparation.vitals import load_vitals

    seconds = {}
    started = time.perf_counter()
    vitals = load_vitals(directory / "processed_data.npz")
    seconds["vitals"] = time.perf_counter() - started
    mark = time.perf_counter()
    source = open_notes(
        split="train",
        text_column="TEXT",
        id_column="HADM_ID",
        notes_file=directory / "NOTEEVENTS.csv",
        other_columns=[("CHARTTIME", "--time-column"), ("CATEGORY", "--category-column")],
    )
    seconds["notes: open (CSV -> Arrow)"] = time.perf_counter() - mark
    mark = time.perf_counter()
    rule = LinkageRule(
        time_column="CHARTTIME",
        category_column="CATEGORY",
        exclude_categories=("Discharge summary",),
    )
    pairing, notes = pair_notes_with_vitals(vitals, source, "id", 42, rule)
    seconds["pairing + reading kept notes"] = time.perf_counter() - mark
    mark = time.perf_counter()
    extract_features(notes.texts, notes.summaries, notes.ids, progress=False)
    seconds["features"] = time.perf_counter() - mark
    seconds["total to the embedding step"] = time.perf_counter() - started
    summary = pairing.summary()
    return {
        "seconds": seconds,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "notes_loaded": len(source),
        "notes_kept": len(notes),
        "eligible_links": sum(summary["eligible_links"].values()),
        "excluded": {
            "after_prediction_time": sum(summary["notes_after_prediction_time"].values()),
            "without_time": sum(summary["notes_without_time"].values()),
            "by_category": sum(
                sum(c.values()) for c in summary["notes_excluded_by_category"].values()
            ),
        },
    }


def run_child(directory: Path, cache: Path) -> dict:
    env = dict(
        os.environ, HF_DATASETS_CACHE=str(cache), HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1"
    )
    result = subprocess.run(
        [sys.executable, __file__, "--measure", str(directory)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"measurement failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.measure is not None:
        print(json.dumps(measure(args.measure)))
        return 0
    directory = args.work_dir or Path(tempfile.mkdtemp(prefix="linked-notes-benchmark-"))
    directory.mkdir(parents=True, exist_ok=True)
    print(f"generating {args.notes:,} notes in {directory} ...", flush=True)
    mark = time.perf_counter()
    generated = generate(directory, args.notes, args.stays, args.text_bytes)
    print(
        f"  {generated['csv_bytes'] / 2**30:.2f} GiB in {time.perf_counter() - mark:.0f} s (not timed below)"
    )
    cache = directory / "hf_datasets_cache"
    runs = {}
    try:
        for label in ("cold (empty datasets cache)", "warm (Arrow cache from the first run)"):
            runs[label] = run_child(directory, cache)
    finally:
        if args.work_dir is None:
            shutil.rmtree(directory, ignore_errors=True)
        else:
            shutil.rmtree(cache, ignore_errors=True)
    results = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "generated": generated,
        "runs": runs,
    }
    for label, run in runs.items():
        print(
            f"\n{label}: {run['notes_loaded']:,} notes loaded, {run['notes_kept']:,} kept "
            f"({run['eligible_links']:,} note-sample links; excluded {run['excluded']})"
        )
        for stage, seconds in run["seconds"].items():
            print(f"  {stage:<32} {seconds:8.1f} s")
        print(f"  {'peak resident memory':<32} {run['peak_rss_mib'] / 1024:8.2f} GiB")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
