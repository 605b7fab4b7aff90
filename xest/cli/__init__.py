"""The ``xest`` command line. Each command group lives in its own module; this one holds the
root group, the global options and the one-line error handling."""

from __future__ import annotations

import sys
import traceback

import click

from xest import __version__
from xest.cli.options import Options, global_options

COMMAND_MODULES = (
    "xest.cli.plugins_cmd",
    "xest.cli.exchange_cmd",
    "xest.cli.sim_cmd",
    "xest.cli.cache_cmd",
    "xest.cli.conformance_cmd",
    "xest.cli.market_cmd",
    "xest.cli.account_cmd",
    "xest.cli.accounts_cmd",
    "xest.cli.watch_cmd",
    "xest.cli.trade_cmd",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xest")
@global_options
@click.pass_context
def cli(ctx: click.Context) -> None:
    """xest: a local, trustworthy picture of crypto exchanges."""
    ctx.ensure_object(Options)


def _add_commands() -> None:
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(cli)
    from xest import plugins

    for impl in plugins.hook().xest_register_commands.get_hookimpls():
        try:
            impl.function(cli=cli)
        except Exception as exc:  # a plugin's commands must not break the others
            click.echo(
                f"warning: plugin {impl.plugin_name} could not add commands: {exc}", err=True
            )


def main(argv: list[str] | None = None) -> None:
    _add_commands()
    options = Options()
    try:
        cli.main(args=argv, prog_name="xest", standalone_mode=False, obj=options)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        from xest.errors import XestError

        if options.debug:
            traceback.print_exc()
        if isinstance(exc, XestError):
            click.echo(f"error: {exc}", err=True)
        else:
            click.echo(
                f"error: unexpected {type(exc).__name__}: {exc} (run with --debug)", err=True
            )
        sys.exit(1)
