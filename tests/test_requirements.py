"""requirements.txt is the exact lock generated from requirements.in (scripts/lock_requirements.sh):
every distribution is pinned with ==, and the running interpreter has exactly those versions, so
a drifting environment fails here instead of quietly changing the numbers. No network."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from helpers import REPO_ROOT


def normalise(name: str) -> str:
    """PEP 503: case-insensitive, runs of '-', '_' and '.' are one '-'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a pip requirements file: no blank lines or comments."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = re.sub(r"(^|\s)#.*", "", raw).strip()
        if line:
            lines.append(line)
    return lines


def loose_requirements() -> dict[str, Requirement]:
    reqs = [Requirement(line) for line in requirement_lines(REPO_ROOT / "requirements.in")]
    return {normalise(req.name): req for req in reqs}


def lock() -> dict[str, str]:
    """Normalised name -> the version after ==, for every line of requirements.txt."""
    pins: dict[str, str] = {}
    for line in requirement_lines(REPO_ROOT / "requirements.txt"):
        req = Requirement(line)
        specs = list(req.specifier)
        assert req.url is None and not req.extras and req.marker is None, line
        assert len(specs) == 1 and specs[0].operator == "==", f"not pinned with ==: {line}"
        assert "*" not in specs[0].version, f"wildcard pin: {line}"
        name = normalise(req.name)
        assert name not in pins, f"pinned twice: {req.name}"
        pins[name] = specs[0].version
    return pins


def test_lock_is_not_empty_and_pins_its_own_tools():
    pins = lock()
    # The lock is the transitive closure, not just the loose list.
    assert len(pins) > len(loose_requirements())
    assert {"torch", "ruff", "packaging"} <= pins.keys()


def test_every_loose_requirement_is_locked_at_a_version_it_allows():
    pins = lock()
    missing = sorted(name for name in loose_requirements() if name not in pins)
    assert not missing, f"in requirements.in but not in the lock (run the lock script): {missing}"
    stale = {
        name: (str(req.specifier), pins[name])
        for name, req in loose_requirements().items()
        if not req.specifier.contains(pins[name], prereleases=True)
    }
    assert not stale, f"the lock breaks requirements.in (run the lock script): {stale}"


def test_torch_stays_the_cpu_pin():
    # torch==2.13.0 installs the local CPU wheel (2.13.0+cpu); a looser pin pulls a CUDA build.
    assert lock()["torch"] == "2.13.0"


def test_installed_versions_equal_the_lock():
    """A pin without a local label (torch==2.13.0) matches any local build of that version, as
    pip's == does (PEP 440): 2.13.0+cpu, or a CUDA build of 2.13.0 installed first."""
    drift = {}
    for name, pinned in lock().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            drift[name] = (pinned, "not installed")
            continue
        if not SpecifierSet(f"=={pinned}").contains(installed, prereleases=True):
            drift[name] = (pinned, installed)
    assert not drift, (
        "installed versions differ from requirements.txt (locked, installed); "
        f"run `pip install -r requirements.txt`: {drift}"
    )
