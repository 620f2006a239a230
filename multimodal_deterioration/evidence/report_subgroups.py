"""The report's reading of ``subgroups``: a table by note availability and recency, and which
subgroups carry a gain, claimed only where its interval excludes zero."""

from __future__ import annotations

import pandas as pd

from .results_schema import Results
from .wording import interval, number, signed

WAY_TITLES = {
    "availability": "eligible note",
    "note_count": "eligible notes",
    "recency": "latest note before prediction",
}
# How a subgroup is named in a sentence.
IN_WORDS = {
    "availability": "samples {label}",
    "note_count": "samples with {label}",
    "recency": "samples whose most recent note was charted {label} before the prediction time",
}
STATUS_WORDS = {
    "too_small": "too few of a class to estimate",
    "empty": "no samples",
    "not_estimable": "not estimable",
}
VERSUS = {
    "multimodal_minus_vital_only": "the vital-only model",
    "multimodal_minus_notes_shuffled": "the shuffled-notes network",
}


def subgroup_frame(results: Results) -> pd.DataFrame:
    """One row per subgroup: counts, status, and (when estimated) the fused and vital-only
    AUROC and both differences with their 95% CI bounds, unrounded."""
    rows = []
    for way, subgroups in results["subgroups"]["by"].items():
        for label, entry in subgroups.items():
            row = {
                "by": way,
                "subgroup": label,
                "samples": entry["samples"],
                "positives": entry["positives"],
                "status": entry["status"],
            }
            for name, value in (entry.get("auroc") or {}).items():
                row |= with_bounds(f"{name}_auroc", value)
            for key, value in (entry.get("differences") or {}).items():
                row |= with_bounds(key, value)
            rows.append(row)
    return pd.DataFrame(rows)


def with_bounds(prefix: str, value: dict) -> dict:
    return {
        prefix: value["estimate"],
        f"{prefix}_ci_low": value["ci"][0],
        f"{prefix}_ci_high": value["ci"][1],
    }


def subgroup_table(results: Results) -> str:
    """The subgroups as a markdown table (4 decimals), for the report and the README."""
    lines = [
        "| subgroup | samples (positives) | multimodal AUROC | vital-only AUROC | multimodal - vital-only | notes' gain (vs shuffled notes) |",
        "|---|---|---|---|---|---|",
    ]
    for way, subgroups in results["subgroups"]["by"].items():
        for label, entry in subgroups.items():
            name = f"{WAY_TITLES[way]}: {label}"
            counts = f"{entry['samples']} ({entry['positives']})"
            if entry["status"] != "estimated":
                reason = STATUS_WORDS[entry["status"]]
                lines.append(f"| {name} | {counts} | {reason} | | | |")
                continue
            auroc, differences = entry["auroc"], entry["differences"]
            cells = [
                f"{number(auroc[model]['estimate'])} ({interval(auroc[model]['ci'])})"
                for model in ("multimodal", "vital_only")
            ] + [
                f"{signed(differences[key]['estimate'])} ({interval(differences[key]['ci'])})"
                for key in VERSUS
            ]
            lines.append(f"| {name} | {counts} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def subgroup_claims(results: Results) -> list[str]:
    """One sentence per subgroup difference whose interval excludes zero; nothing else."""
    claims = []
    for way, subgroups in results["subgroups"]["by"].items():
        for label, entry in subgroups.items():
            for key, comparator in VERSUS.items():
                difference = (entry.get("differences") or {}).get(key)
                if difference is None or difference["ci"][0] <= 0 <= difference["ci"][1]:
                    continue
                direction = "beats" if difference["ci"][0] > 0 else "falls below"
                claims.append(
                    f"in {IN_WORDS[way].format(label=label)}, the fused model {direction} "
                    f"{comparator} ({signed(difference['estimate'])}, 95% CI "
                    f"{interval(difference['ci'])})"
                )
    return claims


def subgroups_section(results: Results) -> str:
    """The report's sub-section: what the subgroups are, the table, what can be read from it."""
    subgroups = results["subgroups"]
    pairing = results["pairing"]
    paragraphs = [
        "Test samples by whether they had an eligible note, by how many, and by the hours from "
        "the most recent one to the prediction time (where times were known), with the same "
        "two-level bootstrap as the main comparison restricted to each subgroup. A subgroup "
        f"with fewer than {subgroups['min_per_class']} samples of either class is counted, not "
        "estimated.",
        subgroup_table(results),
    ]
    claims = subgroup_claims(results)
    if claims:
        paragraphs.append(
            "Intervals that exclude zero: " + "; ".join(claims) + ". No other subgroup "
            "difference is distinguishable from zero, and none is claimed."
        )
    else:
        paragraphs.append(
            "No subgroup difference has an interval that excludes zero, so none is claimed."
        )
    paragraphs.append(subgroup_caution(pairing))
    return "\n\n".join(paragraphs)


def subgroup_caution(pairing: dict) -> str:
    """What the subgroups cannot mean: they are not randomised, and with a pairing that is not
    by patient they describe the pairing, not the charting."""
    caution = (
        "The subgroups are defined by what was charted, not randomised: samples with notes may "
        "be sicker or more closely watched, so a difference between subgroups is not an effect "
        "of the notes, and each subgroup's interval is wider than the overall one (no "
        "correction is made for reading several subgroups)."
    )
    if pairing.get("method") in ("random", "sequential"):
        caution += (
            f" Notes were paired {pairing['method']}ly, not by patient: which samples have a "
            "note, and how many, follows from the pairing rule, so these subgroups say nothing "
            "about the patients' own notes."
        )
    return caution
