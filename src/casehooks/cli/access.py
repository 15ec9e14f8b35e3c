"""``casehooks users add|list|remove`` and ``casehooks tokens create|list|revoke``: who may use the console."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from casehooks.cli.audit import cli_entry
from casehooks.cli.common import opened_store
from casehooks.cli.output import emit
from casehooks.console.access import Role, Scope, refused_scopes
from casehooks.console.auth import hash_password, new_token
from casehooks.settings import Settings
from casehooks.store import Store, accounts, throttle
from casehooks.store.engine import writer

users_app = typer.Typer(help="People who sign in to the console, with their roles.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens with scopes, acting for a user.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _audit(store: Store, connection: Connection, action: str, object_type: str, object_id: str) -> None:
    accounts.audit(connection, store.vault.keyring, cli_entry(None, action, object_type, object_id, store.clock()))


@users_app.command("add")
def add_command(
    username: str,
    role: Annotated[Role, typer.Option(help="What the user may see and do.")] = Role.VIEWER,
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="CASEHOOKS_USER_PASSWORD",
            help="Asked for when not given [CASEHOOKS_USER_PASSWORD].",
        ),
    ] = "",
) -> None:
    """Add a user who signs in to the console with a password."""
    if len(password) < 8:
        typer.echo("the password must have at least 8 characters", err=True)
        raise typer.Exit(2)
    password_hash = hash_password(password)
    with opened_store() as store:
        try:
            with writer(store.engine).begin() as connection:
                accounts.add_user(connection, username, role.value, password_hash, store.clock())
                _audit(store, connection, "add_user", "user", username)
        except IntegrityError:
            typer.echo(f"user {username} exists already", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"added {username} ({role.value})")


@users_app.command("list")
def list_command(as_json: JsonFlag = False) -> None:
    """List users and their roles."""
    with opened_store() as store, store.engine.connect() as connection:
        rows = accounts.list_users(connection)
    emit(rows, ["username", "role", "created_at"], as_json=as_json, title=f"{len(rows)} user(s)")


@users_app.command("remove")
def remove_command(username: str) -> None:
    """Remove a user, with their sessions and tokens."""
    with opened_store() as store, writer(store.engine).begin() as connection:
        accounts.remove_user(connection, username)
        _audit(store, connection, "remove_user", "user", username)
    typer.echo(f"removed {username}")


@users_app.command("unlock")
def unlock_command(username: str) -> None:
    """Lift a sign-in lock after too many wrong passwords (the client addresses' counts stay)."""
    with opened_store() as store, writer(store.engine).begin() as connection:
        if accounts.find_user(connection, username) is None:
            typer.echo(f"no user {username}", err=True)
            raise typer.Exit(1)
        lifted = throttle.clear(connection, throttle.account_subject(username))
        _audit(store, connection, "unlock_user", "user", username)
    typer.echo(f"unlocked {username}" if lifted else f"{username} was not locked")


@tokens_app.command("create")
def create_command(
    user: Annotated[str, typer.Option(help="The user the token acts for.")],
    scope: Annotated[list[Scope], typer.Option(help="What the token may do (repeat); within the user's role.")],
    name: Annotated[str, typer.Option(help="A label to recognise the token by.")] = "api",
    expires_days: Annotated[
        int | None,
        typer.Option(min=1, help="Days until it expires [default: CASEHOOKS_CONSOLE_TOKEN_DAYS, 90]."),
    ] = None,
) -> None:
    """Create an API token and print it, once: only its hash is kept."""
    token = new_token()
    settings = Settings()
    with opened_store(settings) as store, writer(store.engine).begin() as connection:
        account = accounts.find_user(connection, user)
        if account is None:
            typer.echo(f"no user {user}", err=True)
            raise typer.Exit(1)
        refused = refused_scopes(Role(account.role), scope)
        if refused:
            names = ", ".join(item.value for item in refused)
            typer.echo(f"a {account.role} cannot use the scope(s) {names}: the token was not created", err=True)
            raise typer.Exit(2)
        days = expires_days or settings.console_token_days
        now = store.clock()
        accounts.add_token(
            connection,
            token_id=token.id,
            user_id=account.id,
            name=name,
            secret_sha256=token.secret_sha256,
            scopes=sorted({item.value for item in scope}),
            now=now,
            expires_at=now + timedelta(days=days),
        )
        _audit(store, connection, "create_token", "token", token.id)
    typer.echo(f"created token {token.id} for {user}, expiring in {days} days; it is shown once:", err=True)
    typer.echo(token.text)


@tokens_app.command("list")
def tokens_list_command(as_json: JsonFlag = False) -> None:
    """List tokens (never their secrets)."""
    with opened_store() as store, store.engine.connect() as connection:
        rows = accounts.list_tokens(connection)
    columns = ["id", "username", "name", "scopes", "created_at", "expires_at", "revoked_at"]
    emit(rows, columns, as_json=as_json, title=f"{len(rows)} token(s)")


@tokens_app.command("revoke")
def revoke_command(token_id: str) -> None:
    """Revoke a token at once."""
    with opened_store() as store, writer(store.engine).begin() as connection:
        accounts.revoke_token(connection, token_id, store.clock())
        _audit(store, connection, "revoke_token", "token", token_id)
    typer.echo(f"revoked {token_id}")
