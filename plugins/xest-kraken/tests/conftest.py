"""Keep every test away from the user's real cache and config directories."""

from __future__ import annotations

import sys
from pathlib import Path

from xest.testing.isolation import isolated_xest  # noqa: F401  (autouse)

# The tests import their helpers (kraken_helpers.py) from this folder.
sys.path.insert(0, str(Path(__file__).parent))
