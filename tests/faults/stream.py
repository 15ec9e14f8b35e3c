"""What every fault test shares: a stream of signed unique events sent as the platform sends them (retrying on
connection errors and 5xx), handlers that log each run, and the checks that nothing answered 2xx was lost."""

from __future__ import annotations

import os
import random
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from casehooks.settings import Settings
from casehooks.store import Store
from casehooks.store.tables import EventRow, JobRow
from tests.conftest import SEED_PHI
from tests.processes import Server, ready, start_server, wait_for
from tests.receiver.events import attachment_event, comment_event, signed

SECRET = "faults-secret"
# Every FILE_EVERY-th event carries an inline file (a few KiB of random bytes), the others are comments.
FILE_EVERY = 5
FILE_NAME = "faults-scan.pdf"
RECOVERY_CEILING = 180.0

# Each run of a handler appends "run <event id> <pid>" to $HOOKS_OUT (outside the data folder, so a full disk
# there does not lose the record); the attachment handler reads the whole file first.
HOOKS = textwrap.dedent(
    """
    import os
    import time

    from casehooks import Receiver

    app = Receiver.from_env()


    def _record(event_id):
        # With $HOOKS_GATE set, handlers hold until that file exists: jobs stay running while a fault is made.
        gate = os.environ.get("HOOKS_GATE")
        deadline = time.monotonic() + 600
        while gate and not os.path.exists(gate) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(float(os.environ.get("HOOKS_DELAY", "0")))  # keeps jobs held long enough to be killed in
        fd = os.open(os.environ["HOOKS_OUT"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"run {event_id} {os.getpid()}\\n".encode())
        finally:
            os.close(fd)


    @app.on("ADD_CASE_COMMENT")
    def on_comment(event) -> None:
        _record(event.activity.id)


    @app.on("ADD_CASE_ATTACHMENT")
    def on_attachment(event) -> None:
        b"".join(event.attachment.content.iter_bytes())
        _record(event.activity.id)
    """
)


@dataclass
class Stream:
    """Unique signed events, with the answers each one got."""

    events: list[dict[str, Any]]
    files: dict[str, bytes]
    acknowledged: set[str] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)
    refused: list[tuple[str, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def make(cls, count: int, *, file_every: int = FILE_EVERY) -> Stream:
        rng = random.Random(count)
        events: list[dict[str, Any]] = []
        files: dict[str, bytes] = {}
        for index in range(count):
            if index % file_every == file_every - 1:
                content = rng.randbytes(rng.randint(1024, 8192))
                event = attachment_event(content, file_name=FILE_NAME)
                files[event_id(event)] = content
            else:
                event = comment_event()
            events.append(event)
        return cls(events, files)

    @property
    def ids(self) -> set[str]:
        return {event_id(event) for event in self.events}

    def send(self, url: str, *, threads: int = 8) -> None:
        """Send every event until it is answered 2xx, as the platform does: a connection error or a 5xx is
        retried after a short pause; a 4xx is a refusal, recorded and not retried. Gives up only after 10
        minutes and a second per event (a loaded machine), which the checks then report as lost events."""
        stop_at = time.monotonic() + 600.0 + len(self.events)
        webhook = f"{url}/webhooks/carevalidate"

        def worker(chunk: list[dict[str, Any]]) -> None:
            with httpx.Client(timeout=30) as client:
                for event in chunk:
                    body, headers = signed(event, SECRET)
                    while time.monotonic() < stop_at:
                        try:
                            response = client.post(webhook, content=body, headers=headers)
                        except httpx.TransportError:
                            time.sleep(0.1)
                            continue
                        with self._lock:
                            self.statuses[response.status_code] += 1
                        if response.status_code < 300:
                            with self._lock:
                                self.acknowledged.add(response.json()["id"])
                            break
                        if response.status_code < 500:
                            with self._lock:
                                self.refused.append((event_id(event), response.status_code))
                            break
                        time.sleep(0.1)

        workers = [threading.Thread(target=worker, args=(self.events[i::threads],)) for i in range(threads)]
        for thread in workers:
            thread.start()
        self._threads = workers

    def join(self) -> None:
        for thread in self._threads:
            thread.join()

    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)


def event_id(event: dict[str, Any]) -> str:
    return str(event["payload"]["activity"]["id"])


@dataclass
class Receiving:
    """A started ``casehooks serve`` with the logging handlers, on a deployment, and where its runs go."""

    server: Server
    runs_log: Path
    settings: Settings

    def runs(self) -> Counter[str]:
        """How many times a handler ran for each event id."""
        text = self.runs_log.read_text() if self.runs_log.exists() else ""
        return Counter(line.split()[1] for line in text.splitlines() if line.startswith("run "))

    def pids(self) -> Counter[int]:
        """How many handler runs each process made."""
        text = self.runs_log.read_text() if self.runs_log.exists() else ""
        return Counter(int(line.split()[2]) for line in text.splitlines() if line.startswith("run "))

    def restart(self) -> float:
        """Start the server again; seconds from the start to ``/readyz`` answering 200."""
        started = time.monotonic()
        self.server.start(timeout=RECOVERY_CEILING)
        wait_for(lambda: ready(self.server.url), timeout=RECOVERY_CEILING)
        return time.monotonic() - started


@contextmanager
def receiving(
    tmp_path: Path,
    deployment: dict[str, str],
    *,
    data_dir: Path | None = None,
    extra_env: dict[str, str] | None = None,
    **settings: str,
) -> Iterator[Receiving]:
    (tmp_path / "faulthooks.py").write_text(HOOKS)
    runs_log = tmp_path / "runs.log"
    data = data_dir or tmp_path / "data"
    env = {
        "CASEHOOKS_DATA_DIR": str(data),
        **deployment,
        "HOOKS_OUT": str(runs_log),
        "CASEHOOKS_WEBHOOK_SECRET": SECRET,
        "CASEHOOKS_LOG_LEVEL": "debug",
        **{f"CASEHOOKS_{key.upper()}": value for key, value in settings.items()},
        **(extra_env or {}),
    }
    server = start_server(tmp_path, app="faulthooks:app", extra_env=env)
    wait_for(lambda: ready(server.url), timeout=RECOVERY_CEILING)
    store_settings = Settings(
        data_dir=data,
        database_url=deployment.get("CASEHOOKS_DATABASE_URL"),
        blob_url=env.get("CASEHOOKS_BLOB_URL"),
        master_key=deployment.get("CASEHOOKS_MASTER_KEY"),
    )
    try:
        yield Receiving(server, runs_log, store_settings)
    finally:
        server.stop()


def assert_nothing_lost(receiving: Receiving, stream: Stream) -> None:
    """Every event answered 2xx is stored once, complete, its file readable; every event was at last accepted;
    every job finishes, and every handler ran for its event."""
    assert stream.refused == []
    assert stream.acknowledged == stream.ids  # the sender retried until each one was taken
    store = Store.open(receiving.settings, upgrade=False, create=False)
    try:
        with store.engine.connect() as connection:
            stored = Counter(connection.execute(select(EventRow.id)).scalars())
            job_counts = Counter(connection.execute(select(JobRow.event_id)).scalars())
        assert set(stored) == stream.ids
        assert max(stored.values()) == 1
        assert set(job_counts) == stream.ids and max(job_counts.values()) == 1
        for identifier, content in stream.files.items():
            attachment = store.load_event(identifier).attachments()[0]
            assert b"".join(attachment.content.iter_bytes()) == content  # type: ignore[union-attr]

        def all_finished() -> bool:
            with store.engine.connect() as connection:
                states = Counter(connection.execute(select(JobRow.status)).scalars())
            return set(states) == {"succeeded"}

        wait_for(all_finished, timeout=RECOVERY_CEILING)
    finally:
        store.close()
    wait_for(lambda: set(receiving.runs()) == stream.ids, timeout=RECOVERY_CEILING)


def assert_no_phi(text: str, stream: Stream) -> None:
    """No patient data of the seeds, no file name and no file content in a process's output."""
    leaked = [value for value in (*SEED_PHI, FILE_NAME) if value in text]
    assert leaked == []
    assert not any(content[:64].hex() in text for content in stream.files.values())


def full_stream_size(default: int) -> int:
    """Events in a stream: ``default`` in CI, ``CASEHOOKS_FAULTS_EVENTS`` (e.g. 10000) for the full run."""
    return int(os.environ.get("CASEHOOKS_FAULTS_EVENTS", default))


def record_figure(name: str, value: object) -> None:
    """Append a measured figure to ``$CASEHOOKS_FAULTS_FIGURES`` when set (the source of docs/performance.md)."""
    target = os.environ.get("CASEHOOKS_FAULTS_FIGURES")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(f"{name}\t{value}\n")
