"""xest-web: a local dashboard over xest's agents, served by ``xest web``.

The core never imports this package: it plugs in through the ``xest_register_commands`` hook.
"""

__version__ = "0.2.0"
