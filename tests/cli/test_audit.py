"""``casehooks audit`` and the audit rows of the command line's own reads of PHI."""

from __future__ import annotations

import json
import socket
import sqlite3
from pathlib import Path

import pytest

from tests.console.running import Running, start_console
from tests.processes import run_cli

pytestmark = pytest.mark.acceptance
CASE = "ADA-C1HM17"


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Running:
    started = start_console(tmp_path_factory.mktemp("audit"))
    started.server.stop()  # the command line reads the same database alone
    return started


def rows(env: dict[str, str]) -> list[dict[str, object]]:
    return json.loads(run_cli(env, "audit", "list", "--limit", "1000", "--json").stdout)["items"]  # type: ignore[no-any-return]


def test_cli_reads_of_phi_are_audited_with_who_and_where(stored: Running, tmp_path: Path) -> None:
    env = stored.server.env
    before = len(rows(env))
    run_cli(env, "cases", "show", CASE)  # masked: no PHI read, no row
    assert len(rows(env)) == before
    shown = run_cli(env, "cases", "show", CASE, "--reveal", "--as", "dr-ada", "--json")
    case_id = json.loads(shown.stdout)["id"]
    run_cli(env, "attachments", "get", stored.attachment_id, "-o", str(tmp_path / "file.pdf"))
    log = rows(env)
    [read] = [row for row in log if row["action"] == "read_case" and row["username"] == "dr-ada"]
    [download] = [row for row in log if row["action"] == "download_attachment"]
    assert (read["username"], read["via"], read["object_id"]) == ("dr-ada", "cli", case_id)
    assert read["client"] == download["client"] == f"cli@{socket.gethostname()}"
    assert download["object_id"] == stored.attachment_id and download["username"] != "dr-ada"
    assert "XYZZY" not in json.dumps(log) and "zebulon" not in json.dumps(log)


def test_audit_verify_passes_an_intact_log_and_names_the_row_a_raw_edit_broke(stored: Running) -> None:
    env = stored.server.env
    run_cli(env, "cases", "show", CASE, "--reveal")
    intact = run_cli(env, "audit", "verify")
    assert "intact" in intact.stdout
    database = Path(env["CASEHOOKS_DATA_DIR"]) / "casehooks.db"
    with sqlite3.connect(database) as connection:
        [(victim,)] = connection.execute("SELECT min(id) FROM audit_log WHERE action = 'read_case'").fetchall()
        connection.execute("UPDATE audit_log SET username = 'someone-else' WHERE id = ?", (victim,))
    broken = run_cli(env, "audit", "verify", check=False)
    assert broken.returncode == 1
    assert f"broken at row {victim}" in broken.stderr
