"""Write a bench's figures into bench/README.md between its own two marker lines."""

from __future__ import annotations

from pathlib import Path


def write_block(readme: Path, begin: str, end: str, block: str) -> None:
    """Replace what lies between ``begin`` and ``end`` (``block`` carries both markers), or
    append the block when the README has none yet."""
    text = readme.read_text()
    if begin in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    readme.write_text(text)
