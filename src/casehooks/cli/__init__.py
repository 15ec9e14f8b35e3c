"""The ``casehooks`` command line.

Each command's module is imported only when that command runs, so ``casehooks --help`` and a listing do not
load the web server, the console or the sandbox. The table below is the whole command tree's top level.
"""

from __future__ import annotations

import gc
import importlib
import os
from typing import Any

import typer
import typer.core
import typer.main
from typer import _click as click

from casehooks.errors import CasehooksError

# name -> (module, attribute, one-line help). The attribute is a Typer app (a group) or a command function.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "serve": ("casehooks.cli.serve", "serve", "Run the receiver: the webhook endpoint with its handler worker."),
    "worker": ("casehooks.cli.serve", "worker", "Run a handler worker alone."),
    "schema": ("casehooks.cli.schema", "schema", "The wire schema of the case events."),
    "inspect": ("casehooks.cli.schema", "inspect", "Check a payload against the wire schema."),
    "trigger": ("casehooks.cli.trigger", "trigger", "Send signed fake events to a receiver."),
    "sandbox": ("casehooks.cli.sandbox", "sandbox_app", "A small case platform that emits the case webhooks."),
    "events": ("casehooks.cli.events", "events_app", "Stored events: list, show, replay their handlers."),
    "cases": ("casehooks.cli.cases", "cases_app", "Cases as the latest snapshots tell them, with their timelines."),
    "attachments": ("casehooks.cli.cases", "attachments_app", "Attachment files, decrypted on the way out."),
    "quarantine": ("casehooks.cli.quarantine", "quarantine_app", "Refused requests, kept with their reasons."),
    "db": ("casehooks.cli.admin", "db_app", "The database schema."),
    "keys": ("casehooks.cli.admin", "keys_app", "Master keys: generate, rotate and status."),
    "users": ("casehooks.cli.access", "users_app", "People who sign in to the console, with their roles."),
    "tokens": ("casehooks.cli.access", "tokens_app", "API tokens with scopes, acting for a user."),
    "audit": ("casehooks.cli.audit", "audit_app", "The audit log of PHI reads: list it, verify its chain."),
    "search": ("casehooks.cli.search", "search_app", "The blind search index of people: rebuild it."),
    "handlers": ("casehooks.cli.handlers", "handlers_app", "Registered handlers and live workers; retire one."),
    "jobs": ("casehooks.cli.jobs", "jobs_app", "Handler jobs: list them (blocked, late), skip or dead-letter one."),
}


def load_command(name: str) -> click.Command:
    """Import the module of one command and build its click command."""
    module_name, attribute, _help = COMMANDS[name]
    target = getattr(importlib.import_module(module_name), attribute)
    if isinstance(target, typer.Typer):
        return typer.main.get_group(target)
    single = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
    single.command(name)(target)
    single.callback()(lambda: None)  # a group of one, so the command keeps its name
    group = typer.main.get_group(single)
    command = group.get_command(click.Context(group), name)
    assert command is not None
    return command


class _Unloaded(typer.core.TyperCommand):
    """A command's name and one-line help, enough for the root's help."""


class LazyGroup(typer.core.TyperGroup):
    """The root group: lists every command from the table, imports one only when it runs."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, (_module, _attribute, line) in COMMANDS.items():
            self.commands[name] = _Unloaded(name=name, help=line, short_help=line)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name is not None and isinstance(command, _Unloaded):
            command = self.commands[name] = load_command(name)
            if not gc.isenabled():  # paused by main() while the command loaded
                gc.freeze()
                gc.enable()
        return name, command, rest


app = typer.Typer(
    cls=LazyGroup,
    name="casehooks",
    help="Receive, verify, store and send the case platform's webhooks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Plain click help for the root: rich's formatter alone costs more import time than the rest of --help.
    rich_markup_mode=None,
)


@app.callback()
def _configure() -> None:
    # Every file this process makes (database, WAL, blobs, exports) is PHI: owner-only from the start.
    os.umask(0o077)
    # Logs go to standard error, always: standard output is for results (and --json).
    from casehooks.logs import configure_logging, level_from_environment

    configure_logging(level_from_environment())


def main() -> None:
    # Start-up is mostly imports: many objects, almost no garbage. The collector is paused while the command
    # loads, and what loaded is then frozen out of every later collection, including the one at exit (which
    # alone cost a listing 0.2-0.3 s of its 1 s). A long-running command collects its own garbage as usual.
    gc.disable()
    try:
        app()
    except CasehooksError as exc:
        # Our errors carry no payload data; say what went wrong without a traceback.
        typer.echo(f"casehooks: {exc}", err=True)
        raise SystemExit(1) from None
    except ValueError as exc:
        line = settings_error(exc)
        if line is None:
            raise
        typer.echo(f"casehooks: {line}", err=True)
        raise SystemExit(1) from None
    finally:
        gc.freeze()


def settings_error(exc: ValueError) -> str | None:
    """A settings validation error as one line naming the variables, without their values (maybe secrets)."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError) or exc.title != "Settings":
        return None
    problems = [
        f"CASEHOOKS_{'_'.join(str(part) for part in error['loc']).upper()}: {error['msg'].lower()}"
        for error in exc.errors(include_input=False, include_url=False)
    ]
    return "invalid setting " + "; ".join(problems)
