"""Global options, accepted before or after the command name (``xest --json status kraken`` and
``xest status kraken --json`` mean the same)."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import click


class Options:
    """The global options of one invocation. A plain class: ``xest --version`` should not pay
    for importing attrs."""

    __slots__ = (
        "account",
        "debug",
        "json",
        "no_cache",
        "progress",
        "said_ephemeral",
        "sim",
        "testnet",
        "url",
    )
    json: bool
    debug: bool
    no_cache: bool
    sim: bool
    url: str | None
    account: str | None
    testnet: bool
    progress: bool
    said_ephemeral: bool  # the --sim note is said once per command

    def __init__(
        self,
        json: bool = False,
        debug: bool = False,
        no_cache: bool = False,
        sim: bool = False,
        url: str | None = None,
        account: str | None = None,
        testnet: bool = False,
        progress: bool = False,
        said_ephemeral: bool = False,
    ) -> None:
        self.json = json
        self.debug = debug
        self.no_cache = no_cache
        self.sim = sim
        self.url = url
        self.account = account
        self.testnet = testnet
        self.progress = progress
        self.said_ephemeral = said_ephemeral

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"Options({fields})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Options):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)


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
    click.option(
        "--account",
        metavar="NAME",
        help="Named account to use (with --sim: a demo account, alice or bob).",
        shell_complete=lambda ctx, param, incomplete: _complete_accounts(ctx, incomplete),
    ),
    click.option("--testnet", is_flag=True, default=None, help="Use the exchange's test network."),
    click.option(
        "--progress",
        is_flag=True,
        default=None,
        help="Report waits on stderr even with --json or off a terminal.",
    ),
)


def _complete_accounts(ctx: click.Context, incomplete: str) -> list[Any]:
    from xest.cli.completion import complete_accounts

    return complete_accounts(ctx, None, incomplete)


def global_options(func: Callable) -> Callable:
    for option in reversed(_OPTIONS):
        func = option(func)
    # The values land in the root context's Options object, not in the function's arguments.
    for param in func.__click_params__:  # type: ignore[attr-defined]
        if param.name in Options.__slots__:
            param.expose_value = False
            param.callback = _store
    return func


def options(ctx: click.Context | None = None) -> Options:
    ctx = ctx or click.get_current_context()
    root = ctx.find_root()
    if root.obj is None:
        root.obj = Options()
    return root.obj


# -- numbers -------------------------------------------------------------------------------------

_NEGATIVE = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_SHIELD = "\x00"  # marks a negative number so click's parser takes it for a value


class Number(click.ParamType):
    """A decimal amount or price, as typed: plain or scientific, with a sane magnitude
    (below 10^15, at most 18 decimal places) so a typo never reaches a prompt or an exchange.
    Negative numbers are values, not options (``xest sim skew kraken -5``)."""

    name = "number"

    def __init__(self, *, positive: bool = True) -> None:
        self.positive = positive

    def convert(self, value: Any, param: Any, ctx: Any) -> Decimal:
        if isinstance(value, Decimal):
            return value
        text = str(value).replace(_SHIELD, "").strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            self.fail(f"{text!r} is not a number (write e.g. 0.01)", param, ctx)
        if not number.is_finite():
            self.fail(f"{text!r} is not a finite number", param, ctx)
        if self.positive and number <= 0:
            self.fail(f"{text!r} must be greater than zero", param, ctx)
        if abs(number) >= MAX_NUMBER:
            self.fail(f"{text!r} is too large (at most {MAX_NUMBER - 1:f})", param, ctx)
        exponent = number.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -MAX_PLACES:
            self.fail(f"{text!r} has more than {MAX_PLACES} decimal places", param, ctx)
        # Plain notation from here on: 1E+2 becomes 100, never an exponent on the wire.
        return Decimal(f"{number:f}")


MAX_NUMBER = Decimal(10) ** 15
MAX_PLACES = 18
AMOUNT = Number()
SIGNED = Number(positive=False)


class NumbersCommand(click.Command):
    """A command whose arguments may be negative numbers: ``-1`` is a value, not an option."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        takes_value = {
            opt
            for p in self.get_params(ctx)
            if isinstance(p, click.Option) and not p.is_flag and not p.count
            for opt in (*p.opts, *p.secondary_opts)
        }
        shielded, previous = [], ""
        for arg in args:
            if _NEGATIVE.match(arg) and previous not in takes_value:
                arg = _SHIELD + arg
            shielded.append(arg)
            previous = arg
        return super().parse_args(ctx, shielded)


class DefaultGroup(click.Group):
    """A group whose first word may be an argument of its default command:
    ``xest sim kraken`` is ``xest sim run kraken``, ``xest quote binance ...`` is
    ``xest quote ask binance ...``."""

    def __init__(self, *args: Any, default: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default = default

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for i, arg in enumerate(args):
            if arg.startswith("-"):
                continue
            if arg not in self.commands:
                args = [*args[:i], self.default, *args[i:]]
            break
        return super().parse_args(ctx, args)
