"""Which connectors and simulators the installed plugins provide."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xest import errors, plugins
from xest.connector import OPERATIONS, Capability, Connector


def _problem(cls: Any) -> str | None:
    """Why ``cls`` cannot be a connector, or None."""
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        return f"{cls!r} is not a subclass of xest.connector.Connector"
    if not cls.exchange or not cls.exchange.replace("_", "").replace("-", "").isalnum():
        return f"{cls.__name__}.exchange must be a short name like 'kraken'"
    missing = cls.unimplemented()
    if missing:
        return f"{cls.__name__} declares {', '.join(sorted(missing))} but does not implement it"
    return None


def connectors_by_plugin() -> tuple[dict[str, list[type[Connector]]], dict[str, str]]:
    """The connector classes each loaded plugin registered, and the plugins that failed to."""
    registered, failed = plugins.collect("xest_register_connectors")
    result: dict[str, list[type[Connector]]] = {}
    for plugin, calls in registered.items():
        classes = []
        for args in calls:
            problem = _problem(args[0]) if len(args) == 1 else "register() takes one class"
            if problem:
                failed[plugin] = problem
                break
            classes.append(args[0])
        else:
            result[plugin] = classes
    return result, failed


def connectors() -> dict[str, type[Connector]]:
    """Every usable connector by exchange name."""
    by_plugin, _ = connectors_by_plugin()
    return {cls.exchange: cls for classes in by_plugin.values() for cls in classes}


def connector_class(exchange: str) -> type[Connector]:
    available = connectors()
    try:
        return available[exchange.lower()]
    except KeyError:
        names = ", ".join(sorted(available)) or "none"
        raise errors.PluginError(
            f"no connector for {exchange!r} (installed: {names}); "
            "install its plugin, e.g. `pip install xest-kraken`, then see `xest plugins list`",
            code="unknown_exchange",
        ) from None


def simulators() -> dict[str, Callable[..., Any]]:
    registered, _ = plugins.collect("xest_simulators")
    return {args[0]: args[1] for calls in registered.values() for args in calls}


def simulator_factory(exchange: str) -> Callable[..., Any]:
    available = simulators()
    try:
        return available[exchange.lower()]
    except KeyError:
        names = ", ".join(sorted(available)) or "none"
        raise errors.PluginError(
            f"no simulator for {exchange!r} (available: {names})", code="unknown_exchange"
        ) from None


__all__ = [
    "OPERATIONS",
    "Capability",
    "connector_class",
    "connectors",
    "connectors_by_plugin",
    "simulator_factory",
    "simulators",
]
