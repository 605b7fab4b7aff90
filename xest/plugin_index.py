"""What the installed plugins provide, remembered between runs.

Loading every plugin to answer ``xest --help``, ``xest plugins list`` or ``xest.open("kraken")``
costs the entry-point scan (``importlib.metadata``) and every connector module. The index keeps
what those need (plugins, their hooks and status, the exchanges each provides with its
capabilities, simulators, commands) in one small file under the cache directory (marshal:
the interpreter's own format, read without importing anything; the key names the interpreter).

It is trusted only while the installation is unchanged. Its key holds, for every ``sys.path``
directory, the distributions installed there with their modification times (``pip install``,
``uninstall`` and reinstall add, remove or rewrite a ``.dist-info`` directory), the
interpreter, xest's version and ``XEST_PLUGINS``; it also lists the plugins' source files (and
xest's connector contract and CLI modules) with their modification times and sizes, so editing
an editable install is seen too. An index written within a couple of seconds of a change it
depends on is not written at all: a file timestamp can be coarser than the time between two
edits ("racy" entries, as git calls them). ``XEST_PLUGIN_INDEX=off`` neither reads nor writes
it: every run loads the plugins (for a plugin whose registrations depend on its environment).
"""

from __future__ import annotations

import marshal
import os
import sys
import time
import zlib
from typing import Any

FORMAT = 2
RACY_SECONDS = 2.0  # an input changed this recently may change again within one timestamp tick
PRUNE_DAYS = 30

_current: Index | None = None


class Index:
    """The plugins' description: ``rows`` as ``xest plugins list --json`` prints them, plus
    where each exchange's connector and simulator come from and the plugins' commands."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.data["rows"]

    def plugin_for(self, exchange: str, what: str = "connectors") -> str | None:
        """The loaded plugin that provides ``exchange``'s connector (or simulator), if one."""
        for row in self.rows:
            if row["status"] != "loaded":
                continue
            provided = self.data[what].get(row["name"], [])
            if exchange in provided:
                return row["name"]
        return None

    def reference(self, exchange: str, what: str = "connectors") -> str | None:
        """Where ``exchange``'s connector class (or simulator factory) lives, as
        ``"module:qualname"``: opening an exchange imports that module alone, neither the
        plugin's hook nor its test kit. None when it cannot be imported by name."""
        plugin = self.plugin_for(exchange, what)
        found = self.data["references"][what].get(plugin, {}) if plugin else {}
        return found.get(exchange)

    def entry_point(self, plugin: str) -> tuple[str, str] | None:
        """``(distribution, module reference)`` of a plugin's entry point."""
        found = self.data["modules"].get(plugin)
        return (found[0], found[1]) if found else None

    def commands(self, builtin: bool = True) -> dict[str, list[Any]]:
        """What ``--help`` shows of each command (the plugins' and, with ``builtin``, the
        CLI's own): ``{name: [name, short_help, help, hidden, deprecated]}``."""
        found = {cmd[0]: cmd for cmds in self.data["commands"].values() for cmd in cmds}
        if builtin:
            found.update((cmd[0], cmd) for cmd in self.data["builtin_commands"])
        return found


def current(build: bool = True) -> Index | None:
    """The index for this installation: read if still valid, else (``build``) made by loading
    every plugin once and written for the next run."""
    global _current
    if _current is not None:
        return _current
    key = _key()
    path = _path(key)
    off = os.environ.get("XEST_PLUGIN_INDEX", "").lower() in ("0", "off", "no")
    found = None if off else _read(path, key)
    if found is None and build:
        found = _build(key, None if off else path)
    _current = found
    return found


def forget() -> None:
    """Drop the in-process copy (``xest.plugins.reset()`` calls it)."""
    global _current
    _current = None


# -- validity ----------------------------------------------------------------------------------


def _key() -> list[Any]:
    from xest import __version__

    return [
        FORMAT,
        sys.version,
        os.path.normpath(sys.executable),
        __version__,
        os.environ.get("XEST_PLUGINS"),
        # Directories without distributions (the script's, the current one) do not matter.
        [[entry, found] for entry in sys.path if (found := _distributions(entry))],
    ]


def _distributions(entry: str) -> list[list[Any]]:
    """The distributions installed in one ``sys.path`` directory, as importlib.metadata finds
    them (``*.dist-info``, ``*.egg-info``), each with its modification time: an install,
    uninstall or reinstall adds, removes or rewrites one. Other files there do not matter."""
    try:
        with os.scandir(entry or os.curdir) as entries:
            found = [
                [item.name, item.stat().st_mtime_ns]
                for item in entries
                if item.name.endswith((".dist-info", ".egg-info"))
            ]
    except OSError:
        return []
    return sorted(found)


def _cache_root() -> str:
    # As xest.http.storage.cache_dir(), without importing it (nor pathlib) on the fast path.
    explicit = os.environ.get("XEST_CACHE_DIR")
    if explicit:
        return os.path.expanduser(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = os.path.expanduser(xdg) if xdg else os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "xest")


def _path(key: list[Any]) -> str:
    # One file per interpreter and search path: two virtual environments (or a test's extra
    # PYTHONPATH) sharing a cache do not evict each other's.
    where = [key[2], *(entry for entry, _ in key[-1])]
    tag = zlib.crc32("\0".join(where).encode()) & 0xFFFFFFFF
    return os.path.join(_cache_root(), f"plugins-{tag:08x}.index")


def _stamp(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size]


def _read(path: str, key: list[Any]) -> Index | None:
    try:
        with open(path, "rb") as handle:
            data = marshal.load(handle)  # built in, unlike json: nothing more to import
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    files = data.get("files")
    if not isinstance(files, dict):
        return None
    for file, stamp in files.items():
        if _stamp(file) != stamp:
            return None
    return Index(data)


# -- building ----------------------------------------------------------------------------------


def _simulators(
    registered: dict[str, list[tuple[Any, ...]]], kits: dict[str, list[Any]]
) -> dict[str, list[str]]:
    """Exchange names each plugin has a simulator for, through either hook."""
    found = {
        p: [args[0] for args in calls if args and isinstance(args[0], str)]
        for p, calls in registered.items()
    }
    for p, plugin_kits in kits.items():
        found.setdefault(p, []).extend(k.exchange for k in plugin_kits if k.simulator)
    return found


def _reference(found: Any) -> str | None:
    """``"module:qualname"`` naming ``found`` (a class or function), if importing that module
    and following the name gives it back (not for one defined inside a function)."""
    module_name = getattr(found, "__module__", None)
    qualname = getattr(found, "__qualname__", None)
    if not isinstance(module_name, str) or not isinstance(qualname, str) or "<" in qualname:
        return None
    target: Any = sys.modules.get(module_name)
    for part in qualname.split("."):
        target = getattr(target, part, None)
    return f"{module_name}:{qualname}" if target is found else None


def _simulator_references(
    registered: dict[str, list[tuple[Any, ...]]], kits: dict[str, list[Any]]
) -> dict[str, dict[str, str]]:
    """Where each plugin's simulator factories live, by exchange (as ``xest.registry`` picks
    them: a kit's simulator before one registered through the older hook)."""
    found: dict[str, dict[str, str]] = {}
    for p, calls in registered.items():
        for args in calls:
            if len(args) == 2 and isinstance(args[0], str) and (ref := _reference(args[1])):
                found.setdefault(p, {})[args[0]] = ref
    for p, plugin_kits in kits.items():
        for kit in plugin_kits:
            if kit.simulator is not None and (ref := _reference(kit.simulator)):
                found.setdefault(p, {})[kit.exchange] = ref
    return found


def _build(key: list[Any], path: str | None) -> Index:
    from xest import plugins, registry

    infos = plugins.plugin_infos()
    by_plugin, failed = registry.connectors_by_plugin()
    simulators, _ = plugins.collect("xest_simulators")
    kits = registry.kits_by_plugin()[0]
    commands = _commands()
    builtin = _builtin_commands()
    rows = []
    for info in infos:
        error = info.error or failed.get(info.name)
        rows.append(
            {
                "name": info.name,
                "distribution": info.distribution,
                "version": info.version,
                "hooks": list(info.hooks),
                "connectors": [
                    {"exchange": cls.exchange, "capabilities": sorted(cls.capabilities)}
                    for cls in by_plugin.get(info.name, [])
                ],
                "status": "failed" if info.status == "loaded" and error else info.status,
                "error": error,
            }
        )
    data = {
        "key": key,
        "files": _sources(infos),
        "modules": {info.name: [info.distribution, info.module] for info in infos},
        "rows": rows,
        "connectors": {p: [cls.exchange for cls in classes] for p, classes in by_plugin.items()},
        "simulators": _simulators(simulators, kits),
        "references": {
            "connectors": {
                p: {cls.exchange: ref for cls in classes if (ref := _reference(cls))}
                for p, classes in by_plugin.items()
            },
            "simulators": _simulator_references(simulators, kits),
        },
        "commands": commands,
        "builtin_commands": builtin,
    }
    index = Index(data)
    if path is not None and _settled(data):
        _write(path, data)
    return index


def _commands() -> dict[str, list[list[Any]]]:
    """Each plugin's commands, registered on a scratch group, with what ``--help`` shows."""
    import click

    from xest import plugins

    found: dict[str, list[list[Any]]] = {}
    for impl in plugins.hook().xest_register_commands.get_hookimpls():
        scratch = click.Group()
        try:
            impl.function(cli=scratch)
        except Exception:
            continue  # reported when the real commands are added
        found[impl.plugin_name] = [_described(cmd) for cmd in scratch.commands.values()]
    return found


def _builtin_commands() -> list[list[Any]]:
    """The CLI's own commands, described the same way: ``xest --help`` then imports none of
    their modules (the interface layer's, read here so that one index serves the CLI)."""
    import importlib

    import click

    from xest.cli import COMMAND_MODULES

    scratch = click.Group()
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(scratch)
    return [_described(cmd) for cmd in scratch.commands.values()]


def _described(cmd: Any) -> list[Any]:
    return [cmd.name, cmd.short_help, cmd.help, bool(cmd.hidden), bool(cmd.deprecated)]


def _sources(infos: list[Any]) -> dict[str, list[int] | None]:
    """The files the description depends on: the plugins' loaded modules and xest's
    connector contract (capabilities are checked against it)."""
    tops = {info.module.split(":")[0].split(".")[0] for info in infos} - {"xest"}
    files: dict[str, list[int] | None] = {}
    for name, module in list(sys.modules.items()):
        if (
            name.split(".")[0] in tops
            or name in ("xest.connector", "xest.registry")
            or name.startswith("xest.cli.")
        ):
            file = getattr(module, "__file__", None)
            if file:
                files[file] = _stamp(file)
    return files


def _settled(data: dict[str, Any]) -> bool:
    """Whether nothing the index depends on changed within the last RACY_SECONDS."""
    newest = max(
        [dist[1] for _, dists in data["key"][-1] for dist in dists]
        + [stamp[0] for stamp in data["files"].values() if stamp is not None],
        default=0,
    )
    return newest < time.time_ns() - RACY_SECONDS * 1e9


def _write(path: str, data: dict[str, Any]) -> None:
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            marshal.dump(data, handle)
        os.replace(temporary, path)
    except OSError:
        return  # an unwritable cache only costs the next run its speed
    _prune(path)


def _prune(keep: str) -> None:
    """Forget indexes of other interpreters or search paths not written for PRUNE_DAYS."""
    folder = os.path.dirname(keep)
    oldest = time.time() - PRUNE_DAYS * 86400
    try:
        with os.scandir(folder) as entries:
            stale = [
                e.path
                for e in entries
                if e.name.startswith("plugins-")
                and e.name.endswith(".index")
                and e.path != keep
                and e.stat().st_mtime < oldest
            ]
        for path in stale:
            os.unlink(path)
    except OSError:
        pass
