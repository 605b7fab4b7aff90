"""``python -m xest`` is the ``xest`` command."""

from xest.cli import main

main()
