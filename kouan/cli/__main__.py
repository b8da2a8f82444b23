"""``python -m kouan.cli`` runs the same CLI as the ``kouan`` console script."""

from kouan.cli.main import entry

entry()
