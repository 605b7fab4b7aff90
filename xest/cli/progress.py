"""Visible waiting: a wait longer than a second (a rate limit, ``--wait``, a clock sync) says
what it waits for on stderr, and a read of several pages says how far it got. Shown on a
terminal; silent with ``--json`` or when stderr is not a terminal, unless ``--progress``."""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Iterator

import click

from xest.cli.options import options

THRESHOLD = 1.0  # seconds: shorter waits pass unremarked


def enabled() -> bool:
    opts = options()
    if opts.progress:
        return True
    return not opts.json and _isatty()


def _isatty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def say(text: str) -> None:
    if enabled():
        click.echo(text, err=True)


@contextlib.contextmanager
def waiting(what: str, expected: float | None = None) -> Iterator[None]:
    """Around a wait: if it lasts over a second, one line says what it waits for."""
    if not enabled():
        yield
        return
    hint = f" (up to {expected:g} s)" if expected and expected > THRESHOLD else ""
    timer = threading.Timer(THRESHOLD, lambda: click.echo(f"waiting: {what}{hint}...", err=True))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


class _RateLimitWaits(logging.Handler):
    """Turns the limiter's "waiting N s" records into a line for people (N over a second)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if not str(record.msg).startswith("%s: waiting") or len(record.args or ()) < 3:
                return
            exchange, seconds, reason = record.args[:3]  # type: ignore[index,misc]
            if float(seconds) > THRESHOLD:
                say(f"{exchange}: waiting {float(seconds):.1f} s for the rate limit ({reason})")
        except Exception:  # a progress line must never break a command
            pass


class _Pages(logging.Handler):
    """Long reads (several pages) say how far they got, one line per page from the second."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            exchange, what, page, rows = record.args[:4]  # type: ignore[index,misc]
            if int(page) >= 2:
                say(f"{exchange}: reading {what}, page {page}, {rows} so far...")
        except Exception:
            pass


_installed = False


def install() -> None:
    """Listen to the transport's rate-limit waits (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    for name, handler in (("xest.http", _RateLimitWaits), ("xest.paging", _Pages)):
        logger = logging.getLogger(name)
        logger.addHandler(handler(logging.INFO))
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)
