"""The hooks through which plugins extend xest.

A plugin is a module registered under the ``xest`` entry-point group. It implements any of the
functions below, marked with :data:`xest.hookimpl`, using the same argument names::

    from xest import hookimpl

    @hookimpl
    def xest_connectors():
        from xest.testing import ConnectorKit
        from my_exchange.connector import MyConnector

        return ConnectorKit(MyConnector, simulator=..., error_cases=..., recorded_cases=...)

Two hooks matter: ``xest_connectors`` (a connector with its test kit) and
``xest_register_commands`` (CLI commands). The older per-part hooks below them are still
honoured, so plugins written for them keep working; new plugins need only the first.
"""

from __future__ import annotations

import pluggy

__all__ = [
    "PLUGIN_API",
    "hookimpl",
    "hookspec",
    "xest_conformance_options",
    "xest_connectors",
    "xest_error_payloads",
    "xest_recorded_payloads",
    "xest_register_commands",
    "xest_register_connectors",
    "xest_simulators",
]

hookspec = pluggy.HookspecMarker("xest")
hookimpl = pluggy.HookimplMarker("xest")

#: The version of the contract between the core and its plugins: these hooks, the
#: :class:`xest.connector.Connector` base class and the models they exchange. It changes only
#: when a plugin written for the previous one could break. A plugin module states the versions
#: it supports as ``XEST_PLUGIN_API = 1`` or a range ``XEST_PLUGIN_API = (1, 2)`` (inclusive);
#: ``xest plugins list`` shows a plugin built for another version as refused, with the reason,
#: and the core does not load it. A plugin that states nothing is taken as written for version 1.
PLUGIN_API = 1


@hookspec
def xest_connectors():
    """Return the connectors this plugin provides, each with its kit.

    Return a :class:`xest.testing.ConnectorKit` (or a list of them): the connector class, its
    simulator factory, its typed error cases and recorded cases, the options the conformance
    suite exercises it with, the author's own checks and the shared checks it excludes (with
    a reason). Keep heavy imports inside the hook or inside the factories it returns.

    A connector declares the streams it offers in ``streams`` (``ticker``, ``book``,
    ``trades``, ``orders``, ``balances``) with their endpoints in ``stream_urls``, and builds
    each one's :class:`xest.streams.Feed` in ``stream_feed(kind, symbol, depth)``.
    """


@hookspec
def xest_register_commands(cli):
    """Add commands to the ``xest`` command line.

    ``cli`` is the root :class:`click.Group`; use ``@cli.command()`` or ``cli.add_command``.
    """


# -- older hooks: still honoured; a ConnectorKit from ``xest_connectors`` replaces them all ------


@hookspec
def xest_register_connectors(register):
    """Register connector classes.

    Call ``register(cls)`` once per :class:`xest.connector.Connector` subclass the plugin
    provides; the class's ``exchange`` attribute is the name users type (``kraken``).
    """


@hookspec
def xest_simulators(register):
    """Register a local simulator of an exchange.

    Call ``register(exchange, factory)``: ``factory(**options)`` returns a not yet started
    :class:`xest.testing.server.LoopbackServer` speaking that exchange's REST dialect on
    127.0.0.1. The CLI's ``--sim``, ``xest sim`` and the conformance suite use it. A simulator
    of a connector that declares streams serves them too (``stream_urls()``: the connector's
    stream endpoints on loopback; see :mod:`xest.streams.simserver` and
    ``xest.testing.conformance.check_streams`` for what the suite drives).
    """


@hookspec
def xest_error_payloads(register):
    """Register the error answers an exchange really sends, and the xest error each must become.

    Call ``register(exchange, case)`` once per case. ``case`` is a
    :class:`xest.testing.ErrorCase` or a dict with its fields: ``name``; ``body`` (what the
    exchange sends: a JSON-able value, str or bytes); ``error`` (the :mod:`xest.errors` class it
    must raise, or its name); optionally ``status`` (HTTP status, default 200), ``headers``,
    ``operation`` (the connector method to call, default a public read), ``kwargs`` (its
    arguments; default: the suite's own), ``path`` (answer only requests to this path) and
    ``code`` (the exchange code the error must keep in ``.code``). The conformance suite serves
    each body between the connector and its simulator and checks the mapping.
    """


@hookspec
def xest_recorded_payloads(register):
    """Register recorded real answers of an exchange and the values each must parse to.

    Call ``register(exchange, case)`` once per case. ``case`` is a
    :class:`xest.testing.RecordedCase` or a dict with its fields: ``name``; ``operation`` (the
    connector method to call) with ``args``/``kwargs``; ``responses`` (``{"GET /path": body}``
    or ``{"/path": body}``: what the exchange answered, from its documented examples or a
    capture); and what the result must be, one or more of: ``expect`` (the whole result,
    compared with ``==``), ``values`` (dotted attribute paths to values, such as
    ``{"bids.0.price": Decimal("1.5")}``), ``check`` (a callable that asserts); optionally
    ``source`` (where the payload comes from). The conformance suite replays them over HTTP
    through the connector.
    """


@hookspec
def xest_conformance_options(register):
    """Tell the conformance suite how to exercise an exchange's simulator (optional).

    Call ``register(exchange, options)`` with a dict; every key is optional: ``symbol`` (the
    market to trade), ``order_amount`` and ``order_price`` (a limit buy that rests in the book),
    ``quote_symbol``, ``quote_side`` and ``quote_amount`` (a quote the demo account can accept),
    ``candle_interval``. Without them the suite derives its own from ``markets()`` and the
    order book.
    """
