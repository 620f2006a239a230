"""Settings declared once: a config field carries its default, its help line and its valid range.

The config dataclasses (``TrainingConfig``, ``ExperimentConfig``, ``EvaluationSettings``,
``PreparationConfig``) declare every user-editable setting with :func:`setting`; their
``__post_init__`` calls :func:`check_settings`. The scripts' top-of-file constants are read from
these defaults, and ``cli.add_setting_flags`` builds each flag and its ``--help`` line from the
same field, so a default or a range is written in exactly one place.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from .errors import PipelineError


class SettingError(PipelineError):
    """A setting outside its valid range; ``name`` is the field, for the CLI to name its flag."""

    def __init__(self, name: str, requirement: str, value: Any):
        self.name = name
        self.requirement = requirement
        super().__init__(f"{name} {requirement} (got {value!r})")


def setting(
    default: Any,
    help: str,
    *,
    flag: str | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    below: float | None = None,
    choices: Sequence[Any] | None = None,
    metavar: str | None = None,
    kind: type | None = None,
) -> Any:
    """A dataclass field with its default, help text and range (checked by check_settings).

    Args:
        default: the reference value; ``None`` means "decided at run time" and skips the checks.
        help: the ``--help`` line, without the default (the CLI appends it).
        flag: the command-line flag when it is not ``--field-name``; for a boolean whose default
            is true, the flag that turns it off (e.g. ``--no-standardize``).
        minimum: lowest allowed value (inclusive); ``above``: lowest, exclusive;
        maximum: highest, inclusive; ``below``: highest, exclusive; choices: the allowed values.
        metavar: the flag's placeholder in ``--help``.
        kind: the value's type when the default (``None``) does not show it.
    """
    metadata = {
        "help": help,
        "flag": flag,
        "minimum": minimum,
        "maximum": maximum,
        "above": above,
        "below": below,
        "choices": tuple(choices) if choices is not None else None,
        "metavar": metavar,
        "kind": kind,
    }
    return dataclasses.field(default=default, metadata=metadata)


def check_settings(config: Any) -> None:
    """Raise SettingError for the first field of ``config`` outside its declared range."""
    for field in dataclasses.fields(config):
        meta = field.metadata
        if "help" not in meta:
            continue
        value = getattr(config, field.name)
        if value is None:
            continue
        if meta["choices"] is not None and value not in meta["choices"]:
            choices = ", ".join(str(choice) for choice in meta["choices"])
            raise SettingError(field.name, f"must be one of {choices}", value)
        if meta["minimum"] is not None and value < meta["minimum"]:
            raise SettingError(field.name, f"must be at least {meta['minimum']}", value)
        if meta["maximum"] is not None and value > meta["maximum"]:
            raise SettingError(field.name, f"must be at most {meta['maximum']}", value)
        if meta["above"] is not None and not value > meta["above"]:
            raise SettingError(field.name, f"must be greater than {meta['above']}", value)
        if meta["below"] is not None and not value < meta["below"]:
            raise SettingError(field.name, f"must be below {meta['below']}", value)


def default_of(config_class: type, name: str) -> Any:
    """The declared default of one setting, e.g. ``default_of(TrainingConfig, "epochs")``."""
    for field in dataclasses.fields(config_class):
        if field.name == name:
            if field.default is not dataclasses.MISSING:
                return field.default
            return field.default_factory()
    raise KeyError(f"{config_class.__name__} has no setting {name!r}")


def as_record(config: Any) -> dict[str, Any]:
    """The settings of ``config`` as stored in a run record: every field except nested configs
    (recorded on their own) and fields marked ``metadata={"record": False}`` (e.g. whether to
    show progress bars, which does not change a result)."""
    return {
        field.name: getattr(config, field.name)
        for field in dataclasses.fields(config)
        if field.metadata.get("record", True)
        and not dataclasses.is_dataclass(getattr(config, field.name))
    }
