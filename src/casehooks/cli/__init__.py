"""The ``casehooks`` command line."""

from __future__ import annotations

import typer

from casehooks.cli import sandbox, schema, serve, trigger
from casehooks.cli.access import tokens_app, users_app
from casehooks.cli.admin import db_app, keys_app
from casehooks.cli.audit import audit_app
from casehooks.cli.cases import attachments_app, cases_app
from casehooks.cli.events import events_app
from casehooks.cli.handlers import handlers_app
from casehooks.cli.quarantine import quarantine_app
from casehooks.errors import CasehooksError

app = typer.Typer(
    name="casehooks",
    help="Receive, verify, store and send the case platform's webhooks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
serve.register(app)
schema.register(app)
trigger.register(app)
sandbox.register(app)
app.add_typer(events_app, name="events")
app.add_typer(handlers_app, name="handlers")
app.add_typer(cases_app, name="cases")
app.add_typer(attachments_app, name="attachments")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(audit_app, name="audit")


def main() -> None:
    try:
        app()
    except CasehooksError as exc:
        # Our errors carry no payload data; say what went wrong without a traceback.
        typer.echo(f"casehooks: {exc}", err=True)
        raise SystemExit(1) from None
