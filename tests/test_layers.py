"""One direction only: each layer imports the layers below it, never above (no import cycle).
Imports under ``if TYPE_CHECKING:`` count too: a type is a dependency."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

XEST = Path(__file__).resolve().parents[1] / "xest"

# layer → what it must never import (prefixes of module names)
FORBIDDEN = {
    "http": ("xest.connector", "xest.agents", "xest.facade", "xest.cli", "xest.testing"),
    "connector": ("xest.agents", "xest.facade", "xest.cli", "xest.testing"),
    "agents": ("xest.facade", "xest.cli", "xest.testing"),
}
MODULES = {
    "http": sorted((XEST / "http").glob("*.py")),
    "connector": [
        XEST / "connector.py",
        XEST / "markets.py",
        XEST / "models.py",
        XEST / "clock.py",
    ],
    "agents": sorted((XEST / "agents").glob("*.py")),
}


def imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("layer", sorted(MODULES))
def test_no_layer_imports_one_above_it(layer):
    wrong = [
        f"{path.relative_to(XEST.parent)} imports {name}"
        for path in MODULES[layer]
        for name in sorted(imported(path))
        if name.startswith(FORBIDDEN[layer]) or name == "xest.open"
    ]
    assert not wrong, wrong
