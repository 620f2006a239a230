"""Generated blocks in a text file: the lines between ``<!-- NAME:begin -->`` and
``<!-- NAME:end -->``, which scripts/readme_numbers.py and scripts/results_example.py rewrite."""

from __future__ import annotations

import re


def block_pattern(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- {name}:begin -->\n)(.*?)(\n<!-- {name}:end -->)", re.DOTALL)


def read_block(text: str, name: str, where: str = "README.md") -> str:
    """The body of block ``name`` in ``text`` (the file ``where``, named in the message)."""
    match = block_pattern(name).search(text)
    if match is None:
        raise SystemExit(f"{where} has no <!-- {name}:begin --> ... <!-- {name}:end --> block")
    return match.group(2)


def replace_block(text: str, name: str, body: str, where: str = "README.md") -> str:
    """``text`` with block ``name``'s body replaced by ``body``."""
    read_block(text, name, where)
    return block_pattern(name).sub(lambda m: m.group(1) + body + m.group(3), text)
