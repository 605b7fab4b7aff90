"""The ``xest`` command line. Each command group lives in its own module; this one holds the
root group, the global options and the one-line error handling."""

from __future__ import annotations

import sys

import click

from xest import __version__
from xest.cli.options import Options, global_options

# Each command's module, imported only when that command runs (or help lists it): a command
# pays for its own imports, and `xest plugins list` stays fast.
COMMANDS = {
    "plugins": "xest.cli.plugins_cmd",
    "status": "xest.cli.exchange_cmd",
    "time": "xest.cli.exchange_cmd",
    "sim": "xest.cli.sim_cmd",
    "cache": "xest.cli.cache_cmd",
    "conformance": "xest.cli.conformance_cmd",
    "new-connector": "xest.cli.new_connector_cmd",
    "markets": "xest.cli.market_cmd",
    "ticker": "xest.cli.market_cmd",
    "book": "xest.cli.market_cmd",
    "candles": "xest.cli.market_cmd",
    "trades": "xest.cli.market_cmd",
    "balance": "xest.cli.account_cmd",
    "orders": "xest.cli.account_cmd",
    "my-trades": "xest.cli.account_cmd",
    "accounts": "xest.cli.accounts_cmd",
    "config": "xest.cli.accounts_cmd",
    "watch": "xest.cli.watch_cmd",
    "quote": "xest.cli.trade_cmd",
    "order": "xest.cli.trade_cmd",
    "cancel": "xest.cli.trade_cmd",
    "order-status": "xest.cli.trade_cmd",
}
COMMAND_MODULES = tuple(dict.fromkeys(COMMANDS.values()))


class LazyGroup(click.Group):
    """A group whose commands load from their modules on first use.

    ``xest --version`` and ``xest status`` load no plugin; a plugin's command (or an unknown
    name) loads the plugins. ``--help`` describes every command from the plugin index
    (:mod:`xest.plugin_index`, which also remembers the CLI's own), importing none of them.
    """

    _describing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands, *_indexed_commands()})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._describing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self._describing = False

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and self._describing:
            described = _indexed_commands().get(name)
            if described is not None:
                _, short_help, text, hidden, deprecated = described
                return click.Command(
                    name, short_help=short_help, help=text, hidden=hidden, deprecated=deprecated
                )
        if name not in self.commands and name in COMMANDS:
            import importlib

            scratch = click.Group()
            importlib.import_module(COMMANDS[name]).register(scratch)
            for command_name, command in scratch.commands.items():
                self.commands.setdefault(command_name, command)
        return self.commands.get(name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = click.utils.make_str(args[0]) if args else ""
        if name not in COMMANDS and name not in self.commands:
            _add_commands()  # a plugin's command, or a mistake the plugins may know
        return super().resolve_command(ctx, args)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xest")
@global_options
@click.pass_context
def cli(ctx: click.Context) -> None:
    """xest: a local, trustworthy picture of crypto exchanges."""
    ctx.ensure_object(Options)


_plugin_commands_added = False


def _indexed_commands() -> dict[str, list]:
    """What help shows of each command (built-in and plugins'), from the plugin index (built
    if missing)."""
    from xest import plugin_index

    try:
        index = plugin_index.current()
    except Exception:  # a plugin that breaks the index's build breaks no command
        return {}
    return index.commands(builtin=True) if index is not None else {}


def _add_commands() -> None:
    """Let plugins add their commands (once per process)."""
    global _plugin_commands_added
    if _plugin_commands_added:
        return
    _plugin_commands_added = True
    from xest import plugins

    for impl in plugins.hook().xest_register_commands.get_hookimpls():
        try:
            impl.function(cli=cli)
        except Exception as exc:  # a plugin's commands must not break the others
            click.echo(
                f"warning: plugin {impl.plugin_name} could not add commands: {exc}", err=True
            )


_EAGER = frozenset({"--version", "--help", "-h"})


def main(argv: list[str] | None = None) -> None:
    from xest.cli import exits

    options = Options()
    raw = sys.argv[1:] if argv is None else argv
    if not _EAGER & set(raw):  # --version and --help answer at once: no progress to show
        from xest.cli import progress

        progress.install()
    # Known before click parses anything, so a usage error is JSON too under --json.
    options.json = "--json" in raw
    try:
        # Without standalone mode click returns a command's ctx.exit(code) instead of exiting.
        code = cli.main(args=argv, prog_name="xest", standalone_mode=False, obj=options)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(exits.UNEXPECTED)
    except click.ClickException as exc:
        if options.json:
            _print_error(exc, exits.USAGE if exc.exit_code == 2 else exc.exit_code)
        else:
            exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(exits.INTERRUPTED)
    except Exception as exc:
        from xest.errors import XestError

        if options.debug:
            import traceback  # only with --debug: every run would pay for it

            traceback.print_exc()
        status = exits.code_for(exc)
        if options.json:
            _print_error(exc, status)
        elif isinstance(exc, XestError):
            click.echo(f"error: {exc}", err=True)
        else:
            click.echo(
                f"error: unexpected {type(exc).__name__}: {exc} (run with --debug)", err=True
            )
        sys.exit(status)
    if isinstance(code, int) and code != 0:
        sys.exit(code)


def _print_error(exc: BaseException, status: int) -> None:
    """Under --json a failure is one JSON object on stderr (schema ``xest.error/1``)."""
    import json

    from xest.cli import exits

    document = {"schema": "xest.error/1", "error": exits.error_object(exc, status)}
    click.echo(json.dumps(document), err=True)
