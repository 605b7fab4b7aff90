"""Which connectors and simulators the installed plugins provide."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from xest import errors
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


# ``xest.plugins`` (pluggy) is imported where a hook is called: the plugin index's references
# open an exchange without it.


def kits_by_plugin() -> tuple[dict[str, list[Any]], dict[str, str]]:
    """The :class:`xest.testing.ConnectorKit` s each plugin's ``xest_connectors`` returned,
    and the plugins whose hook raised or returned something else."""
    from xest import plugins

    result: dict[str, list[Any]] = {}
    failed: dict[str, str] = {}
    impls = plugins.hook().xest_connectors.get_hookimpls()
    if not impls:
        return result, failed
    from xest.testing.kit import ConnectorKit

    for impl in impls:
        try:
            value = impl.function()
        except Exception as exc:  # one faulty plugin stays contained
            failed[impl.plugin_name] = f"{type(exc).__name__}: {exc}".splitlines()[0]
            continue
        kits = list(value) if isinstance(value, list | tuple) else [value]
        bad = [k for k in kits if not isinstance(k, ConnectorKit)]
        problem = (
            f"xest_connectors returned {type(bad[0]).__name__}, not a ConnectorKit"
            if bad
            else next(filter(None, (_problem(k.connector) for k in kits)), None)
        )
        if problem:
            failed[impl.plugin_name] = problem
            continue
        result[impl.plugin_name] = kits
    return result, failed


def kits() -> dict[str, Any]:
    """Every registered kit by exchange name."""
    by_plugin, _ = kits_by_plugin()
    return {kit.exchange: kit for found in by_plugin.values() for kit in found}


def connectors_by_plugin() -> tuple[dict[str, list[type[Connector]]], dict[str, str]]:
    """The connector classes each loaded plugin registered, and the plugins that failed to."""
    from xest import plugins

    by_kit, failed = kits_by_plugin()
    registered, older_failed = plugins.collect("xest_register_connectors")
    failed.update(older_failed)
    result: dict[str, list[type[Connector]]] = {
        plugin: [kit.connector for kit in found] for plugin, found in by_kit.items()
    }
    for plugin, calls in registered.items():
        classes = []
        for args in calls:
            problem = _problem(args[0]) if len(args) == 1 else "register() takes one class"
            if problem:
                failed[plugin] = problem
                break
            classes.append(args[0])
        else:
            result.setdefault(plugin, []).extend(classes)
    return result, failed


def connectors() -> dict[str, type[Connector]]:
    """Every usable connector by exchange name."""
    by_plugin, _ = connectors_by_plugin()
    return {cls.exchange: cls for classes in by_plugin.values() for cls in classes}


def _indexed_reference(exchange: str, what: str) -> Any:
    """The fastest path: the connector class (or simulator factory) imported from where the
    plugin index says it lives, calling no hook (a kit would import the plugin's test cases);
    None when the index does not know or importing it fails (the other paths then report)."""
    from xest import plugin_index

    try:
        index = plugin_index.current()
        reference = index.reference(exchange, what) if index is not None else None
        if reference is None:
            return None
        module_name, _, qualname = reference.partition(":")
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except Exception:
        return None
    return found


def _indexed_plugin(exchange: str, what: str) -> tuple[str, Any] | None:
    """(plugin name, entry point) of the one plugin the plugin index says provides
    ``exchange``'s ``what``, or None when the index does not know (may raise: callers fall back)."""
    from xest import plugin_index

    index = plugin_index.current()
    plugin = index.plugin_for(exchange, what) if index is not None else None
    reference = index.entry_point(plugin) if index is not None and plugin else None
    if plugin is None or reference is None:
        return None
    return plugin, reference[1]


def _indexed(exchange: str, what: str, hook_name: str) -> list[tuple[Any, ...]]:
    """The fast path: what the one plugin that the plugin index says provides ``exchange``
    registers through ``hook_name``, loading no other plugin; [] when the index does not know
    (or loading that plugin fails: the full path then reports it)."""
    from xest import plugins

    try:
        found = _indexed_plugin(exchange, what)
        if found is None:
            return []
        plugin, entry_point = found
        registered, _ = plugins.collect(hook_name, only=(plugin, entry_point))
    except Exception:
        return []
    return registered.get(plugin, [])


def _indexed_kits(exchange: str, what: str) -> list[Any]:
    """The fast path for kits: those of the one plugin the plugin index says provides
    ``exchange``, loading no other plugin (a kit names its connector class, so calling every
    plugin's ``xest_connectors`` would import every connector); [] when the index does not know."""
    from xest import plugins

    try:
        provider = _indexed_plugin(exchange, what)
        if provider is None:
            return []
        plugin, entry_point = provider
        source = plugins.load_one(plugin, entry_point)
        from xest.testing.kit import ConnectorKit

        found: list[Any] = []
        for impl in source.hook.xest_connectors.get_hookimpls():
            if impl.plugin_name == plugin:
                value = impl.function()
                found += list(value) if isinstance(value, list | tuple) else [value]
    except Exception:  # the full path reports what went wrong
        return []
    return [k for k in found if isinstance(k, ConnectorKit) and k.exchange == exchange]


def exchange_names() -> list[str]:
    """The installed exchanges' names, from the plugin index (importing no connector)."""
    from xest import plugin_index

    try:
        index = plugin_index.current()
    except Exception:
        index = None
    if index is None:
        return sorted(connectors())
    return sorted({name for names in index.data["connectors"].values() for name in names})


def connector_class(exchange: str) -> type[Connector]:
    name = exchange.lower()
    found = _indexed_reference(name, "connectors")
    if _problem(found) is None and found.exchange == name:
        return found
    for kit in _indexed_kits(name, "connectors"):
        if _problem(kit.connector) is None:
            return kit.connector
    for args in _indexed(name, "connectors", "xest_register_connectors"):
        if len(args) == 1 and _problem(args[0]) is None and args[0].exchange == name:
            return args[0]
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
    from xest import plugins

    registered, _ = plugins.collect("xest_simulators")
    found = {args[0]: args[1] for calls in registered.values() for args in calls}
    found.update({name: kit.simulator for name, kit in kits().items() if kit.simulator})
    return found


def simulator_factory(exchange: str) -> Callable[..., Any]:
    name = exchange.lower()
    factory = _indexed_reference(name, "simulators")
    if callable(factory):
        return factory
    for kit in _indexed_kits(name, "simulators"):
        if kit.simulator is not None:
            return kit.simulator
    for args in _indexed(name, "simulators", "xest_simulators"):
        if len(args) == 2 and args[0] == name:
            return args[1]
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
    "exchange_names",
    "kits",
    "kits_by_plugin",
    "simulator_factory",
    "simulators",
]
