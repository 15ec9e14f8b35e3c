"""Master key rotation beside running ``serve`` and ``worker`` processes, on SQLite (key file) and on
PostgreSQL + S3 (``CASEHOOKS_MASTER_KEY``): nothing stored before, during or after a rotation becomes unreadable,
no process needs a restart, and a second rotation goes through."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from casehooks.console.access import ROLE_SCOPES, Role
from casehooks.crypto import Keyring, read_key_file
from casehooks.store.engine import dispose, make_engine
from casehooks.store.keys import recorded_active, references
from tests.processes import Server, run_cli, start_server, wait_for
from tests.receiver.events import attachment_event, signed

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

SECRET = "rotation-secret"
PASSWORD = "a good long password"

# The worker reads every attachment's file back (the decrypted bytes, as a handler sees them) and appends
# "activity-id sha256" in one O_APPEND write.
HOOKS = textwrap.dedent(
    """
    import hashlib
    import os

    from casehooks import Receiver

    app = Receiver.from_env()


    @app.on("ADD_CASE_ATTACHMENT")
    def read_file(event) -> None:
        digest = hashlib.sha256(b"".join(event.attachment.content.iter_bytes())).hexdigest()
        fd = os.open(os.environ["HOOKS_OUT"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{event.activity.id} {digest}\\n".encode())
        finally:
            os.close(fd)
    """
)


class Deployment:
    """A running ``serve`` and ``worker`` on one store, and every file delivered to them."""

    def __init__(self, tmp_path: Path, base: dict[str, str], server: Server) -> None:
        self.tmp_path = tmp_path
        self.base = base
        self.server = server
        self.files: dict[str, tuple[str, bytes]] = {}  # attachment id -> (activity id, content)
        self._lock = threading.Lock()
        self._counter = 0
        self.token = ""

    def deliver(self, count: int) -> None:
        with httpx.Client(timeout=120) as client:
            for _ in range(count):
                with self._lock:
                    self._counter += 1
                    number = self._counter
                # Distinct contents of varied sizes, some past one encryption segment (64 KiB).
                content = hashlib.sha256(str(number).encode()).digest() * (1 + number * 211 % 5000)
                event = attachment_event(content)
                body, headers = signed(event, SECRET)
                response = client.post(self.server.webhook, content=body, headers=headers)
                assert response.status_code == 200, response.text
                payload = event["payload"]
                with self._lock:
                    self.files[payload["attachment"]["id"]] = (payload["activity"]["id"], content)

    def deliver_during(self, action: Callable[[], None], *, threads: int = 3, each: int = 8) -> None:
        """Deliver from several threads at once while ``action`` runs."""
        errors: list[BaseException] = []

        def work() -> None:
            try:
                self.deliver(each)
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)

        started = [threading.Thread(target=work) for _ in range(threads)]
        for thread in started:
            thread.start()
        action()
        for thread in started:
            thread.join(timeout=300)
        assert not errors, errors

    def read_every_file(self) -> None:
        """Every file downloads from the running server, 200 with its exact bytes."""
        headers = {"authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.server.url, headers=headers, timeout=120) as client:
            for attachment_id, (_activity, content) in self.files.items():
                response = client.get(f"/api/attachments/{attachment_id}/content")
                assert response.status_code == 200, (attachment_id, response.status_code)
                assert response.content == content

    def worker_read_every_file(self, out: Path) -> None:
        expected = {activity: hashlib.sha256(content).hexdigest() for activity, content in self.files.values()}

        def seen() -> dict[str, str]:
            lines = out.read_text().splitlines() if out.exists() else []
            return dict(line.split(" ", 1) for line in lines)

        wait_for(lambda: expected.keys() <= seen().keys(), timeout=180)
        found = seen()
        assert {activity: found[activity] for activity in expected} == expected


def rotate(env: dict[str, str]) -> Callable[[], None]:
    def run() -> None:
        result = run_cli(env, "keys", "rotate", "--grace-seconds", "3")
        assert "re-wrapped" in result.stdout

    return run


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_rotating_twice_beside_serve_and_worker_keeps_every_file_readable(
    tmp_path: Path, deployment: dict[str, str], worker: list[subprocess.Popen[bytes]]
) -> None:
    shared = "CASEHOOKS_MASTER_KEY" in deployment
    # Shared deployments list every key each process may meet, the next ones too (docs/security.md).
    first, second, third = Keyring.generate_entry(), Keyring.generate_entry(), Keyring.generate_entry()
    env = {**deployment, "CASEHOOKS_MASTER_KEY": f"{first},{second},{third}"} if shared else dict(deployment)
    (tmp_path / "rotationhooks.py").write_text(HOOKS)
    out = tmp_path / "read.log"
    server = start_server(tmp_path, extra_env=env, webhook_secret=SECRET)
    base = {**server.env}
    try:
        admin = {**base, "CASEHOOKS_USER_PASSWORD": PASSWORD}
        run_cli(admin, "users", "add", "admin", "--role", "admin")
        scopes = [arg for scope in sorted(ROLE_SCOPES[Role.ADMIN]) for arg in ("--scope", scope.value)]
        running = Deployment(tmp_path, base, server)
        running.token = run_cli(admin, "tokens", "create", "--user", "admin", *scopes).stdout.strip()
        with (tmp_path / "worker.log").open("wb") as log:
            worker.append(
                subprocess.Popen(
                    [sys.executable, "-m", "casehooks", "worker", "--app", "rotationhooks:app"],
                    env={**base, "HOOKS_OUT": str(out)},
                    cwd=tmp_path,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            )
        running.deliver(6)
        running.read_every_file()

        def cli_env(active: str, *rest: str) -> dict[str, str]:
            return {**base, "CASEHOOKS_MASTER_KEY": ",".join([active, *rest])} if shared else base

        running.deliver_during(rotate(cli_env(second, first, third)))
        running.deliver(4)
        running.read_every_file()
        running.worker_read_every_file(out)

        running.deliver_during(rotate(cli_env(third, second, first)))
        running.deliver(4)
        running.read_every_file()
        running.worker_read_every_file(out)
        assert worker[0].poll() is None, (tmp_path / "worker.log").read_text()

        engine = make_engine(
            base["CASEHOOKS_DATABASE_URL"] if shared else f"sqlite:///{tmp_path / 'data' / 'casehooks.db'}"
        )
        try:
            active = recorded_active(engine)
            named = references(engine)
        finally:
            dispose(engine)
        if shared:
            assert active == third.split(":")[0]
            # Rows wrapped under a retiring key while the rotation ran are re-wrapped by the next one at the latest.
            assert set(named) <= {second.split(":")[0], active}
        else:
            held = read_key_file(tmp_path / "data" / "master.key").key_ids
            assert held[0] == active
            # Nothing is wrapped under a key the rotations removed from the file.
            assert set(named) <= set(held)
            assert os.stat(tmp_path / "data" / "master.key").st_mode & 0o077 == 0
        status = run_cli(cli_env(third, second, first), "keys", "status").stdout
        assert f"{active}  wraps {named[active]}  active" in status.splitlines()
        for entry in (first, second, third):
            assert entry.split(":")[1] not in status
        assert "Traceback" not in server.output()
    finally:
        server.stop()
