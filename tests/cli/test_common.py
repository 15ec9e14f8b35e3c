"""Helpers every command shares (cli/common.py)."""

from __future__ import annotations

import os

import pytest

from casehooks.cli.common import who_runs

NOBODY_KNOWN = 54_321  # a uid with no passwd entry, as in a container started with --user


def test_a_user_without_a_name_is_audited_by_uid(monkeypatch: pytest.MonkeyPatch) -> None:
    # getpass names the user from LOGNAME, USER, LNAME or USERNAME, then from the passwd entry of the uid; in such
    # a container there is neither, and it raises: the command must still run and audit who ran it.
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(os, "getuid", lambda: NOBODY_KNOWN)
    assert who_runs() == f"uid:{NOBODY_KNOWN}"


def test_a_named_user_is_audited_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGNAME", "ops-on-call")
    assert who_runs() == "ops-on-call"
