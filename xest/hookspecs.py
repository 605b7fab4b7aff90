"""The hooks through which plugins extend xest.

A plugin is a module registered under the ``xest`` entry-point group. It implements any of the
functions below, marked with :data:`xest.hookimpl`, using the same argument names::

    from xest import hookimpl

    @hookimpl
    def xest_register_connectors(register):
        register(MyExchangeConnector)
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("xest")
hookimpl = pluggy.HookimplMarker("xest")


@hookspec
def xest_register_connectors(register):
    """Register connector classes.

    Call ``register(cls)`` once per :class:`xest.connector.Connector` subclass the plugin
    provides; the class's ``exchange`` attribute is the name users type (``kraken``).
    """


@hookspec
def xest_register_commands(cli):
    """Add commands to the ``xest`` command line.

    ``cli`` is the root :class:`click.Group`; use ``@cli.command()`` or ``cli.add_command``.
    """


@hookspec
def xest_simulators(register):
    """Register a local simulator of an exchange.

    Call ``register(exchange, factory)``: ``factory(**options)`` returns a not yet started
    :class:`xest.testing.server.LoopbackServer` speaking that exchange's REST dialect on
    127.0.0.1. The CLI's ``--sim``, ``xest sim`` and the conformance suite use it.
    """
