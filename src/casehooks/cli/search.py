"""``casehooks search reindex``: rebuild the blind index of people's names, emails and phones."""

from __future__ import annotations

import typer

from casehooks.cli.common import opened_store

search_app = typer.Typer(help="The blind search index of people (no plaintext PHI stored).", no_args_is_help=True)


@search_app.command("reindex")
def reindex_command() -> None:
    """Rebuild the index from every stored person, under the active master key (after a rotation, or an upgrade)."""
    from sqlalchemy import select

    from casehooks.events.wire import load_json
    from casehooks.store import search
    from casehooks.store.engine import writer
    from casehooks.store.tables import PersonRow

    with opened_store() as store:
        vault = store.vault
        with writer(store.engine).begin() as connection:
            rows = connection.execute(select(PersonRow.id, PersonRow.dek_id, PersonRow.details_sealed)).all()
            people = (
                (row.id, load_json(vault.open(row.dek_id, row.details_sealed, f"people:{row.id}".encode())))
                for row in rows
            )
            indexed = search.reindex(connection, vault.keyring, people)
    typer.echo(f"indexed {indexed} person(s)")
