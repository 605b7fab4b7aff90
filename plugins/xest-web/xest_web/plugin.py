"""The hook through which xest finds the ``web`` command. Importing it is cheap: the web stack
(Starlette, uvicorn, Jinja2) loads only when the command runs."""

from xest import hookimpl

# The versions of xest's plugin API this plugin is written for (see xest.hookspecs.PLUGIN_API).
XEST_PLUGIN_API = 1


@hookimpl
def xest_register_commands(cli):
    from xest_web.command import web

    cli.add_command(web)
