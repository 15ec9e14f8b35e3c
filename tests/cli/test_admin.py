"""``casehooks keys rotate`` and ``casehooks worker`` against a real data folder."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from casehooks.crypto import Keyring
from tests.processes import casehooks_env, run_cli, start_server
from tests.receiver.events import attachment_event, comment_event, signed

pytestmark = pytest.mark.acceptance


def test_key_rotation_keeps_everything_readable_under_the_new_key(tmp_path: Path) -> None:
    server = start_server(tmp_path, webhook_secret="s")
    content = b"rotate me" * 1000
    event = attachment_event(content)
    comment = comment_event(text="still readable")
    for item in (event, comment):
        assert httpx.post(server.webhook, content=signed(item, "s")[0], headers=signed(item, "s")[1]).status_code == 200
    server.stop()
    key_file = tmp_path / "data" / "master.key"
    old_id = key_file.read_text().split(":")[0]

    result = run_cli(server.env, "keys", "rotate", "--grace-seconds", "0")  # nothing serves
    assert "re-wrapped" in result.stdout
    new_text = key_file.read_text().strip()
    assert "," not in new_text
    assert not new_text.startswith(old_id)
    assert key_file.stat().st_mode & 0o077 == 0

    out = tmp_path / "file.bin"
    run_cli(server.env, "attachments", "get", event["payload"]["attachment"]["id"], "-o", str(out))
    assert out.read_bytes() == content
    case = json.loads(run_cli(server.env, "cases", "show", "ADA-C1HM17", "--reveal", "--json").stdout)
    assert "still readable" in [(item["comment"] or {}).get("text") for item in case["timeline"]]


def test_worker_drain_runs_due_jobs_and_exits(tmp_path: Path) -> None:
    (tmp_path / "countinghooks.py").write_text(
        "from pathlib import Path\n"
        "from casehooks import Receiver\n"
        "app = Receiver.from_env()\n"
        "@app.on('*')\n"
        "def count(event):\n"
        "    with Path('seen.log').open('a') as f:\n"
        "        f.write(event.activity.id + '\\n')\n"
    )
    server = start_server(tmp_path, webhook_secret="s")  # no handlers here: the jobs wait for a worker with them
    events = [comment_event() for _ in range(3)]
    for item in events:
        httpx.post(server.webhook, content=signed(item, "s")[0], headers=signed(item, "s")[1])
    server.stop()
    env = casehooks_env(tmp_path / "data", webhook_secret="s")
    run_cli(env, "events", "replay", "--type", "ADD_CASE_COMMENT")
    result = run_cli(env, "worker", "--app", "countinghooks:app", "--drain", cwd=tmp_path)
    assert "ran 3 job(s)" in result.stderr
    seen = (tmp_path / "seen.log").read_text().split()
    assert sorted(seen) == sorted(item["payload"]["activity"]["id"] for item in events)


def test_rolling_master_key_rotation_on_a_shared_database(tmp_path: Path, deployment: dict[str, str]) -> None:
    """The runbook of docs/scaling.md: OLD,NEW then NEW,OLD, rotate, then NEW alone reads everything."""
    old = deployment.get("CASEHOOKS_MASTER_KEY") or Keyring.generate_entry()
    new = Keyring.generate_entry()
    base = {**casehooks_env(tmp_path / "data", webhook_secret="s"), **deployment}
    content = b"rotate me on a shared store" * 500
    event = attachment_event(content)

    both = {**deployment, "CASEHOOKS_MASTER_KEY": f"{old},{new}"}
    server = start_server(tmp_path, extra_env=both, webhook_secret="s")
    assert httpx.post(server.webhook, content=signed(event, "s")[0], headers=signed(event, "s")[1]).status_code == 200
    server.stop()

    result = run_cli({**base, "CASEHOOKS_MASTER_KEY": f"{new},{old}"}, "keys", "rotate", "--grace-seconds", "0")
    assert f"under {new.split(':')[0]}" in result.stdout

    out = tmp_path / "file.bin"
    attachment_id = event["payload"]["attachment"]["id"]
    run_cli({**base, "CASEHOOKS_MASTER_KEY": new}, "attachments", "get", attachment_id, "-o", str(out))
    assert out.read_bytes() == content
    only_old = {**base, "CASEHOOKS_MASTER_KEY": old}
    refused = run_cli(only_old, "attachments", "get", attachment_id, "-o", str(out), check=False)
    assert refused.returncode != 0
