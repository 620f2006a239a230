"""Numbers and facts in words, shared by the report and the results tables.

Every number in the report is formatted from ``multimodal_results.json`` by these helpers, so
the report and the JSON cannot disagree: "n/a" for a value the results leave undefined, a sign
on every difference, p-values to three decimals.
"""

from __future__ import annotations

from collections.abc import Sequence

from .results_schema import Results

# p-values are shown to three decimals, as clinical journals usually ask; a smaller p would print
# as 0.000, so it is stated as lying below this floor instead.
P_VALUE_FLOOR = 0.001


def number(value: float | None, digits: int = 4) -> str:
    """``value`` to ``digits`` decimals; "n/a" for None (undefined in the results)."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def interval(bounds: Sequence[float] | None, digits: int = 4) -> str:
    """A ``[low, high]`` interval as "low to high"; "n/a" for None."""
    return "n/a" if bounds is None else f"{bounds[0]:.{digits}f} to {bounds[1]:.{digits}f}"


def signed(value: float, digits: int = 4) -> str:
    """``value`` with its sign always shown, for differences (e.g. "+0.0120")."""
    return f"{value:+.{digits}f}"


def p_value(p: float) -> str:
    """ "p = 0.123", or "p < 0.001" below :data:`P_VALUE_FLOOR`."""
    return f"p < {P_VALUE_FLOOR:g}" if p < P_VALUE_FLOOR else f"p = {p:.3f}"


def with_ci(results: Results, model: str, metric: str) -> str:
    """A model's test metric with its bootstrap 95% CI, e.g. "0.8120 (0.7710 to 0.8500)"."""
    value = results["metrics"][model][metric]
    return f"{number(value)} ({interval(results['confidence_intervals'][model][metric])})"


def pairing_phrase(pairing: dict) -> str:
    """How notes were paired, as a phrase to follow "paired with the samples"."""
    method = pairing.get("method")
    if method == "id":
        return "by shared patient/stay id"
    if method == "random":
        return f"at random (seed {pairing.get('seed')}), within disjoint per-split note pools"
    if method == "sequential":
        return "in file order (sequentially), within disjoint per-split note pools"
    return "by an unrecorded rule"
