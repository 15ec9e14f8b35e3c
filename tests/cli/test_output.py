"""Tables for people: ids whole at 80 columns, numbers rounded; JSON untouched."""

from __future__ import annotations

import json
import uuid

import pytest

from casehooks.cli.output import emit


def test_ids_are_printed_whole_on_an_80_column_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    rows = [
        {
            "seq": 1,
            "id": str(uuid.uuid4()),
            "event_type": "ADD_CASE_ATTACHMENT",
            "case_id": str(uuid.uuid4()),
            "received_at": None,
            "job_status": "succeeded",
            "job_attempts": 1,
            "deviation_count": 0,
        }
    ]
    emit(rows, list(rows[0]), as_json=False)
    printed = capsys.readouterr().out
    assert rows[0]["id"] in printed
    assert rows[0]["case_id"] in printed


def test_durations_are_rounded_to_a_tenth_in_tables_but_exact_in_json(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"attempt": 1, "duration_ms": 12.345678901234567}]
    emit(rows, ["attempt", "duration_ms"], as_json=False)
    table = capsys.readouterr().out
    assert "12.3" in table and "12.34" not in table
    emit(rows, ["attempt", "duration_ms"], as_json=True)
    assert json.loads(capsys.readouterr().out) == rows
