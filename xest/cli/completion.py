"""Shell completion of exchanges, accounts and symbols.

Symbols come from the markets this machine has already listed (``xest markets EXCHANGE``
remembers them under the xest home), never from a network call made while typing.
"""

from __future__ import annotations

import json
from typing import Any

import click
from click.shell_completion import CompletionItem


def complete_exchanges(ctx: click.Context, param: Any, incomplete: str) -> list[CompletionItem]:
    try:
        from xest import registry

        names = sorted(registry.connectors())
    except Exception:  # completion must never print a traceback into the shell
        return []
    return [CompletionItem(n) for n in names if n.startswith(incomplete.lower())]


def complete_accounts(ctx: click.Context, param: Any, incomplete: str) -> list[CompletionItem]:
    names: set[str] = {"alice", "bob"} if _root_flag(ctx, "sim") else set()
    try:
        from xest import accounts

        names |= {a.name for a in accounts.load_config().accounts.values()}
    except Exception:
        pass
    return [CompletionItem(n) for n in sorted(names) if n.startswith(incomplete)]


def complete_symbols(ctx: click.Context, param: Any, incomplete: str) -> list[CompletionItem]:
    exchange = ctx.params.get("exchange")
    if not exchange:
        return []
    wanted = incomplete.upper()
    return [CompletionItem(s) for s in known_symbols(exchange) if s.startswith(wanted)]


def _root_flag(ctx: click.Context, name: str) -> bool:
    obj = ctx.find_root().obj
    return bool(getattr(obj, name, False))


def _symbols_file(exchange: str) -> Any:
    from xest.http.storage import private_dir

    return private_dir("symbols") / f"{exchange.lower()}.json"


def remember_symbols(exchange: str, symbols: list[str]) -> None:
    """Keep the symbols ``xest markets`` listed, for completion (best effort)."""
    try:
        path = _symbols_file(exchange)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(sorted(set(symbols))))
        tmp.replace(path)
    except Exception:
        pass


def known_symbols(exchange: str) -> list[str]:
    try:
        return list(json.loads(_symbols_file(exchange).read_text()))
    except Exception:
        return []
