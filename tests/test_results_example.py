"""scripts/results_example.py: the trimming rules on small hand-made results, and the doc block."""

from __future__ import annotations

import json
import re
from pathlib import Path

from multimodal_deterioration.evidence.results_schema import ResultsFile

from helpers import load_module

REPO_ROOT = Path(__file__).resolve().parents[1]
example = load_module(REPO_ROOT / "scripts" / "results_example.py")


def small_results(out: str = "/tmp/run/out") -> dict:
    return {
        "multimodal_auroc": 0.712345678,
        "test_samples": 60,
        "metrics": {
            "multimodal": {"auroc": 0.66666666, "ppv": None, "flag": True},
            "vital_only": {"auroc": 0.5},
            "text_only": {"auroc": 0.4},
        },
        "decision_curve": {
            "thresholds": [0.01 * t for t in range(1, 51)],
            "net_benefit": {"treat_none": [-0.0] * 7, "short": [0.123456] * 6},
        },
        "meta": {
            "notes": {"source": "other/notes.jsonl"},
            "embedding_model": {"path": "/usr/lib/python3/site-packages/model", "dimension": 384},
        },
        "run": {"config": {"data_file": f"{out}/multimodal_data.npz"}},
        "files": {
            "results": f"{out}/multimodal_results.json",
            "tables": [f"{out}/table.csv", f"{out}/table.tex"],
        },
    }


def test_floats_are_rounded_and_other_scalars_kept():
    trimmed = example.trim(small_results())
    assert trimmed["multimodal_auroc"] == 0.7123
    assert trimmed["test_samples"] == 60
    assert trimmed["metrics"]["multimodal"] == {"auroc": 0.6667, "ppv": None, "flag": True}
    assert trimmed["decision_curve"]["net_benefit"]["short"] == [0.1235] * 6
    rendered = example.render(trimmed)
    assert "-0.0" not in rendered  # a negative zero prints as 0.0


def test_long_lists_show_their_first_items():
    curve = example.trim(small_results())["decision_curve"]
    assert curve["thresholds"][:3] == [0.01, 0.02, 0.03]
    assert len(curve["thresholds"]) == example.LIST_HEAD + 1
    assert isinstance(curve["thresholds"][-1], example.Gap)
    assert example.one_line(curve["net_benefit"]["treat_none"]) == "[0.0, 0.0, 0.0, ...]"
    assert len(curve["net_benefit"]["short"]) == example.LIST_LIMIT  # short enough: whole


def test_paths_under_the_output_directory_are_shown_as_out():
    prefixes = example.output_prefixes(small_results())
    assert prefixes == ("/tmp/run/out",)
    trimmed = example.trim(small_results(), prefixes)
    assert trimmed["files"] == {
        "results": "out/multimodal_results.json",
        "tables": ["out/table.csv", "out/table.tex"],
    }
    assert trimmed["run"]["config"]["data_file"] == "out/multimodal_data.npz"
    assert trimmed["meta"]["notes"]["source"] == "other/notes.jsonl"  # relative, elsewhere: kept
    assert trimmed["meta"]["embedding_model"]["path"] == "..."  # absolute, elsewhere
    # A run made with `--out-dir out` already names its files so.
    assert example.output_prefixes(small_results("out")) == ()
    assert example.show_path("out/x.csv", ()) == "out/x.csv"
    assert example.show_path("/tmp/run/outside.csv", ("/tmp/run/out",)) == "..."


def test_left_out_entries_become_one_gap_in_place():
    results = {
        "controls": {
            "ran": True,
            "notes_shuffled": {},
            "text_only": {},
            "notes_shuffled_within_class": {"auroc": 0.5},
            "notes_zeroed_at_test": {},
            "label_leak_suspected": False,
        },
        "metrics": small_results()["metrics"],
    }
    text = example.render(example.trim(results))
    assert text == (
        "{\n"
        '  "controls": {\n'
        '    "ran": true,\n'
        "    ...,\n"
        '    "notes_shuffled_within_class": {"auroc": 0.5},\n'
        "    ...,\n"
        '    "label_leak_suspected": false\n'
        "  },\n"
        '  "metrics": {"multimodal": {"auroc": 0.6667, "ppv": null, "flag": true}, ...}\n'
        "}"
    )


def test_elided_values_and_wide_objects():
    pair = {"estimate": 0.1, "per_seed": {str(s): 0.01 for s in range(42, 47)}}
    results = {
        "comparisons": {
            "pairs": {
                "multimodal_minus_notes_shuffled": {"auroc": pair, "brier": pair, "verdict": "x"},
                "multimodal_minus_vital_only": pair,
                "multimodal_minus_text_only": pair,
            }
        },
        "added_value": {"idi_raw": {"value": 0.2, "definition": "said above"}},
    }
    trimmed = example.trim(results)
    pairs = trimmed["comparisons"]["pairs"]
    assert pairs["multimodal_minus_notes_shuffled"]["brier"] == "{...}"
    assert pairs["multimodal_minus_vital_only"] == "{...}"
    assert "multimodal_minus_text_only" not in pairs
    assert trimmed["added_value"]["idi_raw"]["definition"] == "..."
    text = example.render(trimmed)
    assert '"brier": {...},' in text and '"multimodal_minus_vital_only": {...},' in text
    assert max(map(len, text.splitlines())) <= example.WIDTH


def test_block_markers_are_replaced_and_volatile_values_masked():
    doc = "intro\n<!-- results-example:begin -->\nold\n<!-- results-example:end -->\nafter\n"
    updated = example.replace_block(doc, "```json\n{}\n```")
    assert updated == (
        "intro\n<!-- results-example:begin -->\n```json\n{}\n```\n"
        "<!-- results-example:end -->\nafter\n"
    )
    assert example.read_block(updated) == "```json\n{}\n```"
    first = '"created_utc": "2026-01-01T00:00:00+00:00",\n"seconds": {"training": 8.0},\n"x": 1'
    second = '"created_utc": "2027-01-01T00:00:00+00:00",\n"seconds": {"training": 3.5},\n"x": 1'
    assert example.mask_volatile(first) == example.mask_volatile(second)
    assert example.mask_volatile(first) != example.mask_volatile(second.replace("1", "2"))


def test_check_compares_with_the_doc(tmp_path, monkeypatch, capsys):
    results = small_results()
    results_file = tmp_path / "multimodal_results.json"
    results_file.write_text(json.dumps(results), encoding="utf-8")
    doc = tmp_path / "results.md"
    doc.write_text("<!-- results-example:begin -->\nold\n<!-- results-example:end -->\n")
    monkeypatch.setattr(example, "DOC", doc)
    assert example.main(["--results", str(results_file), "--check"]) == 1
    assert "old" in doc.read_text()
    assert example.main(["--results", str(results_file)]) == 0
    assert example.read_block(doc.read_text()) == example.example_block(results)
    assert example.main(["--results", str(results_file), "--check"]) == 0
    assert "matches" in capsys.readouterr().out


def test_doc_shows_the_commands_and_every_top_level_key():
    doc = example.DOC.read_text(encoding="utf-8")
    commands = example.doc_commands(doc)
    assert [argv[0] for argv in commands] == [
        "download_and_prepare_clinical_notes.py",
        "train_multimodal_lstm.py",
    ]
    assert all(
        "--out-dir" in argv and argv[argv.index("--out-dir") + 1] == "out" for argv in commands
    )
    shown = set(re.findall(r'^  "([^"]+)":', example.read_block(doc), re.MULTILINE))
    assert ResultsFile.__required_keys__ <= shown, (
        "docs/results.md's example lacks keys: regenerate it with python scripts/results_example.py"
    )
