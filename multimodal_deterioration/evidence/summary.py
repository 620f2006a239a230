"""The closing summary the training script prints: read from the results dict alone, so a run
and an evaluation of its saved predictions print the same lines."""

from __future__ import annotations

import sys
import textwrap


def wrapped(text: str) -> str:
    return textwrap.fill(text, width=100, initial_indent="  ", subsequent_indent="  ")


def print_summary(results: dict) -> None:
    """Every model's test AUROC with its CI, the comparison, the verdict, the controls and the
    pairing; warnings that must not be missed go to stderr."""
    banner = "SYNTHETIC DEMO DATA - not clinical evidence.\n" if results["meta"].get("demo") else ""
    print(
        f"\n== Summary\n{banner}Test samples: {results['test_samples']}; per-model lines are "
        f"the main seed's ({results['seeds']['main_seed']})"
    )
    print_models(results)
    print_verdict(results)
    print_controls(results)
    print_pairing(results["pairing"])


def print_models(results: dict) -> None:
    ci, seeds = results["confidence_intervals"], results["seeds"]
    for name, metrics in results["metrics"].items():
        low, high = ci[name]["auroc"]
        spread = ""
        if seeds["sd_test_auroc"][name] is not None:
            spread = (
                f"; over seeds {seeds['mean_test_auroc'][name]:.4f} +/- "
                f"{seeds['sd_test_auroc'][name]:.4f}"
            )
        print(
            f"  {name:<28} test AUROC {metrics['auroc']:.4f} (95% CI {low:.4f}-{high:.4f}){spread}"
        )


def print_verdict(results: dict) -> None:
    added = results["added_value"]
    over = (
        f"{added['seeds']} seeds and test rows"
        if added["includes_training_randomness"]
        else "test rows of one seed only"
    )
    for label, entry in (
        ("notes' gain (vs notes_shuffled)", added),
        ("multimodal - vital_only", added["over_vital_only"]),
    ):
        low, high = entry["gain_auroc_ci"]
        print(
            f"  {label:<32} {entry['gain_auroc']:+.4f} (95% CI {low:+.4f} to {high:+.4f}, over "
            f"{over}; multimodal better in {entry['probability_of_outperforming']:.0%})"
        )
    print(f"  verdict (--min-gain {added['min_gain_auroc']:g}): {added['statement']}")
    print(wrapped(added["attribution_statement"]))
    delong = results["statistics"]["delong_multimodal_vs_vital_only"]
    low, high = results["confidence_intervals"]["multimodal_minus_vital_only"]["auroc"]
    print(
        f"  main seed only (fitted models held fixed): multimodal - vital_only "
        f"{delong['auc_difference']:+.4f} (95% CI {low:+.4f} to {high:+.4f}), "
        f"DeLong p = {delong['p_value']:.3g}"
    )
    print(
        f"  reported baseline {results['reported_baseline_auroc']:.4f} (quoted, not "
        f"re-measured): {results['improvement_vs_reported_percent']:+.2f}%"
    )
    if "resplits" in results:
        spread = results["resplits"]
        print(
            f"  over {spread['k']} redrawn splits: multimodal - vital_only "
            f"{spread['mean']['difference']:+.4f} +/- {spread['sd']['difference']:.4f} (SD), "
            f"range {spread['difference_range'][0]:+.4f} to {spread['difference_range'][1]:+.4f}"
        )


def print_controls(results: dict) -> None:
    controls = results["controls"]
    config = results["run"]["config"]
    setting_name = config["ablations_setting"]
    if not controls["ran"]:
        why = (
            "--ablations off"
            if setting_name == "off"
            else "--ablations auto skips them above "
            f"{config['ablations_auto_limit']:,} training samples x seeds"
        )
        print(f"  negative controls: not run ({why}; --ablations on runs them)")
        return
    print(f"  negative controls: run (--ablations {setting_name}); see multimodal_report.md")
    if controls["label_leak_suspected"]:
        kept = controls["notes_shuffled_within_class"]["retained_fraction"]
        print(
            f"  WARNING: notes shuffled within each class keep {kept:.0%} of the notes' gain: the "
            "notes may be standing in for the label (pairing or labelling leak); see "
            "multimodal_report.md",
            file=sys.stderr,
        )


def print_pairing(pairing: dict) -> None:
    if pairing["method"] is not None and not pairing["clinically_linked"]:
        print(
            f"  notes were paired {pairing['method']}ly, not by patient: a difference cannot "
            "be attributed to clinical information"
        )
    if pairing["description"]:
        print(wrapped(pairing["description"]))
    for warning in pairing["warnings"]:
        print(f"  pairing warning: {warning}")
