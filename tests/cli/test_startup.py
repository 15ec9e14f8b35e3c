"""Starting ``casehooks`` commands: what they import, where they look, what they create, how they fail."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from casehooks.crypto import Keyring
from casehooks.events import parse_event
from casehooks.settings import Settings
from casehooks.store import Store
from tests.processes import casehooks_env, free_port, run_cli
from tests.receiver.events import comment_event

pytestmark = pytest.mark.acceptance

HEAVY = ("fastapi", "uvicorn", "starlette", "httpx", "casehooks.console", "casehooks.sender", "casehooks.receiver")


def imported_modules(env: dict[str, str], *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "casehooks", *args],
        env={**env, "COLUMNS": "80"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    names = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    return result, names


def heavy(names: set[str]) -> set[str]:
    return {name for name in names if name.split(".")[0] in HEAVY or name.startswith(HEAVY)}


def stored_event_store(data_dir: Path) -> None:
    """A data folder holding one stored event."""
    store = Store.open(Settings(data_dir=data_dir))
    try:
        body = json.dumps(comment_event()).encode()
        prepared = store.prepare(parse_event(body), body)
        assert store.commit(prepared)
    finally:
        store.close()


def test_help_loads_no_server_console_sender_or_http_client(tmp_path: Path) -> None:
    result, names = imported_modules(casehooks_env(tmp_path / "data"), "--help")
    assert result.returncode == 0
    assert "events" in result.stdout
    assert "casehooks.cli" in names
    assert heavy(names) == set()


def test_help_loads_neither_the_schema_nor_the_rich_formatter(tmp_path: Path) -> None:
    # These two were most of the import time of ``casehooks --help``.
    result, names = imported_modules(casehooks_env(tmp_path / "data"), "--help")
    assert result.returncode == 0
    assert {name for name in names if name.startswith(("casehooks.events", "pydantic", "rich"))} == set()


@pytest.mark.parametrize("command", [["events", "list"], ["cases", "list"], ["quarantine", "list"]])
def test_a_listing_loads_no_server_console_or_sender(tmp_path: Path, command: list[str]) -> None:
    env = casehooks_env(tmp_path / "data")
    run_cli(env, "db", "upgrade")
    result, names = imported_modules(env, *command, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"items": [], "next": None, "total": 0, "total_estimated": False, "notices": []}
    assert heavy(names) == set()
    # The schema's revision is one query: the migration machinery and its scripts load only to migrate.
    assert {name for name in names if name.split(".")[0] == "alembic"} == set()


def test_events_list_loads_neither_the_orm_nor_the_event_models_nor_the_keys_nor_structlog(tmp_path: Path) -> None:
    # Most of what is left of its start-up is SQLAlchemy's core: the mapped tables, the schema's pydantic models,
    # the crypto and the log renderer each cost more than the listing's own query.
    data = tmp_path / "data"
    stored_event_store(data)
    for path in [data, *data.rglob("*")]:  # private, as serve makes them: no warning to log
        path.chmod(0o700 if path.is_dir() else 0o600)
    result, names = imported_modules(casehooks_env(data), "events", "list", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("\n") == sum(line.startswith("import time:") for line in result.stderr.splitlines())
    assert json.loads(result.stdout)["total"] == 1
    loaded = {name for name in names if name.startswith(("sqlalchemy.orm", "casehooks.store.tables", "structlog"))}
    loaded |= {name for name in names if name.startswith(("casehooks.events.envelope", "casehooks.crypto"))}
    assert loaded == set()


def test_a_read_command_in_a_new_folder_creates_nothing_and_says_where_it_looked(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for command in (["events", "list"], ["events", "list", "--json"], ["cases", "list"], ["quarantine", "list"]):
        result = run_cli(casehooks_env(data), *command, check=False)
        assert result.returncode == 1
        assert result.stdout == ""
        assert result.stderr.strip().splitlines() == [
            f"casehooks: no casehooks store at {data / 'casehooks.db'} (CASEHOOKS_DATA_DIR / CASEHOOKS_DATABASE_URL); "
            "run `casehooks serve` or `casehooks db upgrade` first"
        ]
    assert not data.exists()


def test_db_upgrade_creates_an_owner_only_store(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run_cli(casehooks_env(data), "db", "upgrade")
    assert data.stat().st_mode & 0o777 == 0o700
    made = list(data.iterdir())
    assert {path.name for path in made} >= {"casehooks.db", "master.key", "blobs"}
    for path in made:
        assert path.stat().st_mode & 0o077 == 0, path


def test_json_output_parses_while_a_loose_folder_is_warned_about_on_stderr(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = casehooks_env(data)
    run_cli(env, "db", "upgrade")
    data.chmod(0o755)
    (data / "casehooks.db").chmod(0o644)
    result = run_cli(env, "events", "list", "--json")
    assert json.loads(result.stdout)["items"] == []
    warnings = [json.loads(line) for line in result.stderr.splitlines() if "loose_permissions" in line]
    assert {(item["path"], item["mode"]) for item in warnings} == {
        (str(data), "0755"),
        (str(data / "casehooks.db"), "0644"),
    }
    assert data.stat().st_mode & 0o777 == 0o755  # reported, not changed behind the operator's back


def test_a_deleted_key_file_with_data_present_is_an_error_never_a_new_key(tmp_path: Path) -> None:
    data = tmp_path / "data"
    stored_event_store(data)
    key_file = data / "master.key"
    key_file.unlink()
    env = casehooks_env(data)
    for command in (["events", "list", "--json"], ["db", "upgrade"], ["worker", "--drain"], ["serve", "--port", "0"]):
        result = run_cli(env, *command, check=False)
        assert result.returncode == 1, command
        lines = result.stderr.strip().splitlines()
        assert lines[-1].startswith(f"casehooks: the master key file {key_file} is missing"), (command, lines)
        assert "Traceback" not in result.stderr
        assert not key_file.exists()


def test_unreachable_postgresql_is_one_line_naming_the_setting_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql://casehooks:hunter2secret@127.0.0.1:{free_port()}/casehooks"
    env = casehooks_env(tmp_path / "data", database_url=url, master_key=Keyring.generate_entry())
    for command in (["events", "list", "--json"], ["db", "upgrade"], ["serve", "--port", str(free_port())]):
        result = run_cli(env, *command, check=False)
        assert result.returncode == 1
        assert result.stdout == ""
        [line] = [line for line in result.stderr.splitlines() if "casehooks:" in line]
        assert line.startswith("casehooks: cannot reach the database at CASEHOOKS_DATABASE_URL=postgresql://casehooks:")
        assert "connection refused" in line
        assert "hunter2secret" not in result.stderr
        assert "Traceback" not in result.stderr


def test_an_unusable_data_folder_is_one_line_naming_the_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = casehooks_env(blocker / "data")
    for command in (["db", "upgrade"], ["serve", "--port", str(free_port())]):
        result = run_cli(env, *command, check=False)
        assert result.returncode == 1
        assert result.stderr.strip().splitlines()[-1] == (
            f"casehooks: cannot create the data folder CASEHOOKS_DATA_DIR={blocker / 'data'}: not a directory"
        )


def test_a_port_in_use_is_one_line_naming_the_setting(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(casehooks_env(tmp_path / "data"), "serve", "--port", str(port), check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"casehooks: cannot listen on 127.0.0.1:{port} (CASEHOOKS_PORT/--port): address already in use"
    )


def test_a_malformed_setting_is_one_line_naming_it_without_its_value(tmp_path: Path) -> None:
    env = casehooks_env(tmp_path / "data", port="eighty-eighty", handler_max_attempts="0")
    result = run_cli(env, "events", "list", check=False)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("casehooks: invalid setting ")
    assert "CASEHOOKS_PORT" in line and "CASEHOOKS_HANDLER_MAX_ATTEMPTS" in line
    assert "eighty-eighty" not in line


def test_status_and_type_are_checked_against_their_choices(tmp_path: Path) -> None:
    env = casehooks_env(tmp_path / "data")
    run_cli(env, "db", "upgrade")
    assert run_cli(env, "events", "list", "--status", "bogus", check=False).returncode == 2
    assert run_cli(env, "events", "list", "--type", "NOT_AN_EVENT", check=False).returncode == 2
    assert run_cli(env, "events", "list", "--status", "dead", "--type", "ADD_CASE_COMMENT").returncode == 0
    assert run_cli(env, "quarantine", "list", "--status", "everything", check=False).returncode == 2
    assert run_cli(env, "cases", "list", "--status", "NOT_A_STATUS", check=False).returncode == 2
