"""Keep every test away from the user's real cache and config directories."""

from __future__ import annotations

from xest.testing.isolation import isolated_xest  # noqa: F401  (autouse)
