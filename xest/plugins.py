"""Plugin loading: the ``xest`` entry-point group, through pluggy, on first use.

A plugin that fails to import, or implements a hook that does not exist or with the wrong
argument names, is recorded as failed with its reason; it never breaks the other plugins or
the CLI. ``XEST_PLUGINS=dist-a,dist-b`` loads only those distributions (empty: none).
"""

from __future__ import annotations

import os
import threading
from typing import Any

import attrs
import pluggy

from xest import hookspecs

ENTRY_POINT_GROUP = "xest"


@attrs.frozen
class PluginInfo:
    """What ``xest plugins list`` shows about one entry point."""

    name: str
    distribution: str
    version: str
    module: str
    status: str  # "loaded", "failed" or "refused" (built for another plugin API)
    error: str | None = None
    hooks: tuple[str, ...] = ()


_lock = threading.Lock()
_manager: pluggy.PluginManager | None = None
_infos: list[PluginInfo] = []
# Plugins loaded one at a time, by the fast paths that know from the plugin index which one
# provides an exchange (``xest.open("kraken")`` need not import Binance's connector).
_single: pluggy.PluginManager | None = None


def _selected() -> set[str] | None:
    value = os.environ.get("XEST_PLUGINS")
    if value is None:
        return None
    return {_normal(name) for name in value.split(",") if name.strip()}


def _normal(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def _load() -> tuple[pluggy.PluginManager, list[PluginInfo]]:
    import importlib.metadata  # ~15 ms: only when every plugin is loaded

    manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
    manager.add_hookspecs(hookspecs)
    infos = []
    selected = _selected()
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist_name = ep.dist.name if ep.dist else "?"
        if selected is not None and _normal(dist_name) not in selected:
            continue
        info: dict[str, Any] = dict(
            name=ep.name,
            distribution=dist_name,
            version=ep.dist.version if ep.dist else "?",
            module=ep.value,
        )
        module = None
        try:
            module = ep.load()
            refusal = api_mismatch(module)
            if refusal:
                infos.append(PluginInfo(status="refused", error=refusal, **info))
                continue
            # register() refuses a hook with wrong argument names; check_pending() one that
            # the core does not know.
            manager.register(module, name=ep.name)
            manager.check_pending()
        except Exception as exc:  # a broken plugin must not break the others
            if module is not None and manager.is_registered(module):
                manager.unregister(module)
            infos.append(PluginInfo(status="failed", error=_describe(exc), **info))
            continue
        hooks = tuple(sorted(h.name for h in manager.get_hookcallers(module) or ()))
        infos.append(PluginInfo(status="loaded", hooks=hooks, **info))
    return manager, infos


def supported_api(module: object) -> tuple[int, int]:
    """The plugin API versions a plugin module states it supports, as an inclusive range."""
    declared = getattr(module, "XEST_PLUGIN_API", 1)
    if isinstance(declared, int) and not isinstance(declared, bool):
        return declared, declared
    if (
        isinstance(declared, tuple)
        and len(declared) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in declared)
    ):
        return declared
    raise TypeError(
        f"XEST_PLUGIN_API must be an int or an (oldest, newest) pair of ints, not {declared!r}"
    )


def api_mismatch(module: object) -> str | None:
    """Why a plugin module must not be loaded by this core, or None when it fits."""
    oldest, newest = supported_api(module)
    if oldest <= hookspecs.PLUGIN_API <= newest:
        return None
    wanted = str(oldest) if oldest == newest else f"{oldest} to {newest}"
    return (
        f"built for xest plugin API {wanted}, this xest provides {hookspecs.PLUGIN_API}: "
        "install a release of the plugin made for this xest, or a xest that matches the plugin"
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def manager() -> pluggy.PluginManager:
    """The process's plugin manager, loading the entry points the first time."""
    global _manager, _infos
    with _lock:
        if _manager is None:
            _manager, _infos = _load()
        return _manager


def plugin_infos() -> list[PluginInfo]:
    manager()
    return list(_infos)


def reset() -> None:
    """Forget loaded plugins, so the next use loads them again (tests, after pip install)."""
    global _manager, _infos, _single
    from xest import plugin_index

    with _lock:
        _manager, _infos, _single = None, [], None
        plugin_index.forget()


def load_one(name: str, reference: str) -> pluggy.PluginManager:
    """A manager holding the plugin ``name`` (entry point value ``reference``), loading only
    that one; the full manager when every plugin is loaded already. Raises what loading it
    raises: the caller falls back to loading them all, which reports it properly."""
    global _single
    with _lock:
        if _manager is not None:
            return _manager
        if _single is None:
            _single = pluggy.PluginManager(ENTRY_POINT_GROUP)
            _single.add_hookspecs(hookspecs)
        if _single.get_plugin(name) is None:
            import importlib

            module_name, _, attribute = reference.partition(":")
            plugin: Any = importlib.import_module(module_name.strip())
            for part in filter(None, attribute.strip().split(".")):
                plugin = getattr(plugin, part)
            refusal = api_mismatch(plugin)
            if refusal:
                raise RuntimeError(refusal)
            _single.register(plugin, name=name)
        return _single


def hook() -> Any:
    return manager().hook


def collect(
    hook_name: str, only: tuple[str, str] | None = None
) -> tuple[dict[str, list[tuple[Any, ...]]], dict[str, str]]:
    """Call one registration hook plugin by plugin.

    Returns what each plugin registered (``{plugin name: [register() arguments, ...]}``) and the
    plugins whose hook raised (``{plugin name: reason}``), so one faulty plugin stays contained.
    ``only=(name, entry point value)`` calls that plugin's hook alone, loading no other.
    """
    registered: dict[str, list[tuple[Any, ...]]] = {}
    failed: dict[str, str] = {}
    source = manager() if only is None else load_one(*only)
    for impl in getattr(source.hook, hook_name).get_hookimpls():
        if only is not None and impl.plugin_name != only[0]:
            continue
        calls: list[tuple[Any, ...]] = []
        try:
            impl.function(register=lambda *args, _calls=calls: _calls.append(args))
        except Exception as exc:
            failed[impl.plugin_name] = _describe(exc)
            continue
        registered[impl.plugin_name] = calls
    return registered, failed
