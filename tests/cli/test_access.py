"""``casehooks users`` and ``casehooks tokens`` against a real data folder."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.processes import casehooks_env, run_cli

pytestmark = pytest.mark.acceptance


def test_users_are_added_listed_and_removed_with_hashed_passwords(tmp_path: Path) -> None:
    env = casehooks_env(tmp_path / "data", user_password="a long password")
    run_cli(env, "db", "upgrade")  # only serve, worker and db upgrade create a store
    run_cli(env, "users", "add", "ada", "--role", "clinician")
    listed = json.loads(run_cli(env, "users", "list", "--json").stdout)
    assert [(user["username"], user["role"]) for user in listed] == [("ada", "clinician")]
    assert b"a long password" not in (tmp_path / "data" / "casehooks.db").read_bytes()
    again = run_cli(env, "users", "add", "ada", check=False)
    assert again.returncode == 1
    run_cli(env, "users", "remove", "ada")
    assert json.loads(run_cli(env, "users", "list", "--json").stdout) == []


def test_token_is_shown_once_stored_hashed_and_revocable(tmp_path: Path) -> None:
    env = casehooks_env(tmp_path / "data", user_password="a long password")
    run_cli(env, "db", "upgrade")  # only serve, worker and db upgrade create a store
    run_cli(env, "users", "add", "ops", "--role", "operator")
    created = run_cli(env, "tokens", "create", "--user", "ops", "--scope", "read", "--scope", "actions")
    text = created.stdout.strip()
    assert text.startswith("chk_")
    secret = text.split("_", 2)[2]
    assert secret.encode() not in (tmp_path / "data" / "casehooks.db").read_bytes()
    token_id = text.split("_")[1]
    [token] = json.loads(run_cli(env, "tokens", "list", "--json").stdout)
    assert token["id"] == token_id
    assert token["scopes"] == ["actions", "read"]
    run_cli(env, "tokens", "revoke", token_id)
    [token] = json.loads(run_cli(env, "tokens", "list", "--json").stdout)
    assert token["revoked_at"] is not None


def test_a_token_expires_by_default(tmp_path: Path) -> None:
    env = casehooks_env(tmp_path / "data", user_password="a long password", console_token_days="7")
    run_cli(env, "db", "upgrade")  # only serve, worker and db upgrade create a store
    run_cli(env, "users", "add", "ops", "--role", "operator")
    run_cli(env, "tokens", "create", "--user", "ops", "--scope", "read")
    run_cli(env, "tokens", "create", "--user", "ops", "--scope", "read", "--expires-days", "1")
    first, second = json.loads(run_cli(env, "tokens", "list", "--json").stdout)
    for token, days in ((first, 7), (second, 1)):
        lifetime = datetime.fromisoformat(token["expires_at"]) - datetime.fromisoformat(token["created_at"])
        assert lifetime == timedelta(days=days)


def test_a_scope_the_role_cannot_use_is_refused_when_the_token_is_created(tmp_path: Path) -> None:
    env = casehooks_env(tmp_path / "data", user_password="a long password")
    run_cli(env, "db", "upgrade")  # only serve, worker and db upgrade create a store
    run_cli(env, "users", "add", "watcher", "--role", "viewer")
    refused = run_cli(env, "tokens", "create", "--user", "watcher", "--scope", "read", "--scope", "phi", check=False)
    assert refused.returncode == 2
    assert "phi" in refused.stderr and "chk_" not in refused.stdout
    assert json.loads(run_cli(env, "tokens", "list", "--json").stdout) == []


def test_unlock_names_an_unknown_user(tmp_path: Path) -> None:
    env = casehooks_env(tmp_path / "data")
    run_cli(env, "db", "upgrade")  # only serve, worker and db upgrade create a store
    assert run_cli(env, "users", "unlock", "nobody", check=False).returncode == 1
