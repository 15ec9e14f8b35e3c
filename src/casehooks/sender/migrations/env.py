"""Alembic environment of the sandbox's own database: runs on the connection ``sender.migrate`` hands it."""

from __future__ import annotations

from alembic import context

from casehooks.sender.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    version_table="sandbox_alembic_version",
)
with context.begin_transaction():
    context.run_migrations()
