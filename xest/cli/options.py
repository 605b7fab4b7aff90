"""Global options, accepted before or after the command name (``xest --json status kraken`` and
``xest status kraken --json`` mean the same)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import click


@attrs.define
class Options:
    json: bool = False
    debug: bool = False
    no_cache: bool = False
    sim: bool = False
    url: str | None = None
    account: str | None = None


def _store(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value not in (None, False):
        root = ctx.find_root()
        if root.obj is None:
            root.obj = Options()
        setattr(root.obj, param.name, value)
    return value


_OPTIONS = (
    click.option("--json", "json", is_flag=True, default=None, help="Print JSON for scripts."),
    click.option("--debug", is_flag=True, default=None, help="Show tracebacks on errors."),
    click.option("--no-cache", is_flag=True, default=None, help="Bypass the response cache."),
    click.option("--sim", is_flag=True, default=None, help="Use the exchange's local simulator."),
    click.option("--url", metavar="URL", help="Base URL of the exchange's REST API."),
    click.option("--account", metavar="NAME", help="Named account to use."),
)


def global_options(func: Callable) -> Callable:
    for option in reversed(_OPTIONS):
        func = option(func)
    # The values land in the root context's Options object, not in the function's arguments.
    for param in func.__click_params__:  # type: ignore[attr-defined]
        if param.name in attrs.fields_dict(Options):
            param.expose_value = False
            param.callback = _store
    return func


def options(ctx: click.Context | None = None) -> Options:
    ctx = ctx or click.get_current_context()
    root = ctx.find_root()
    if root.obj is None:
        root.obj = Options()
    return root.obj
