"""The simulators' demo accounts, as the dashboard's "select a user" list."""

from __future__ import annotations

from typing import Any


def demo_accounts(simulator: Any) -> list[tuple[str, str, str]]:
    """``(name, key, secret)`` of each funded demo account of a simulator: its own
    ``demo_accounts()`` when it has them, else its single demo account as ``demo``."""
    accounts = getattr(simulator, "demo_accounts", None)
    if accounts is not None:
        return [(name, key, secret) for name, (key, secret) in sorted(accounts().items())]
    demo = getattr(simulator, "demo_credentials", None)
    if demo is not None:
        key, secret = demo()
        return [("demo", key, secret)]
    return []
