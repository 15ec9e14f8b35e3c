"""The events list reads two tables through lightweight clauses: they must name real columns of real types."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import Table

from casehooks.store.event_list import EVENTS, JOBS
from casehooks.store.tables import Base


@pytest.mark.parametrize("clause", [EVENTS, JOBS], ids=lambda clause: clause.name)
def test_each_column_of_the_listing_is_a_column_of_the_table_with_its_type(clause: Table) -> None:
    real = Base.metadata.tables[clause.name]
    for column in clause.c:
        assert column.name in real.c, f"{clause.name}.{column.name} is not a column of the table"
        # The same type, so binds and results convert alike (aware UTC datetimes, JSON, integers).
        assert type(column.type) is type(real.c[column.name].type), column.name


def test_the_listing_loads_neither_the_orm_nor_the_mapped_tables() -> None:
    heavy = ("sqlalchemy.orm", "casehooks.store.tables", "casehooks.events.envelope", "structlog")
    code = f"import sys, casehooks.store.event_list; print([m for m in sys.modules if m.startswith({heavy!r})])"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
