"""The ``casehooks`` command line."""

from __future__ import annotations

import typer

from casehooks.cli import sandbox, schema, trigger

app = typer.Typer(
    name="casehooks",
    help="Receive, verify, store and send the case platform's webhooks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
schema.register(app)
trigger.register(app)
sandbox.register(app)


def main() -> None:
    app()
