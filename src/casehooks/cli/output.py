"""Printing results: a table for people, ``--json`` for programs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import typer


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=_default))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _is_id(column: str) -> bool:
    return column == "id" or column.endswith("_id")


def emit(rows: Sequence[dict[str, Any]], columns: Sequence[str], *, as_json: bool, title: str | None = None) -> None:
    """Print ``rows`` as JSON (every key) or as a table of ``columns``."""
    if as_json:
        print_json(list(rows))
        return
    from rich.console import Console  # a table for people; --json does without it
    from rich.table import Table

    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    table = Table(title=title)
    for index, column in enumerate(columns):
        if _is_id(column):
            # Ids are copied into the next command: never cut or wrapped, the other columns give way.
            widest = max([len(column), *(len(line[index]) for line in cells)])
            table.add_column(column, no_wrap=True, min_width=widest, overflow="ignore")
        else:
            table.add_column(column, overflow="fold")
    for line in cells:
        table.add_row(*line)
    Console().print(table)


def emit_page(page: Any, columns: Sequence[str], *, as_json: bool, noun: str, again: str) -> None:
    """Print a page of a list: JSON ``{items, next, total, total_estimated}``, or a table and the next command."""
    if as_json:
        print_json(page.as_dict())
        return
    emit(page.items, columns, as_json=False, title=f"{len(page.items)} of {page.total_label} {noun}")
    if page.next is not None:
        typer.echo(f"more: {again} --before {page.next}")
