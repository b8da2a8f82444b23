"""The ``kouan`` command line (typer); each area has its own module with a sub-app."""
