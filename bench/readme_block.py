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


def publish(block: str, *, write: bool = True) -> None:
    """Print a bench's block and, unless ``write`` is false, put it into bench/README.md
    (the block's first and last lines are its markers)."""
    print(block)
    if write:
        lines = block.splitlines()
        write_block(Path(__file__).with_name("README.md"), lines[0], lines[-1], block)
