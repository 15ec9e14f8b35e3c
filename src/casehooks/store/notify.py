"""Wake-ups for idle workers: PostgreSQL ``NOTIFY`` when jobs are committed, ``LISTEN`` in every worker.

A notification is only a hint: the queue table stays the truth, and workers still poll now and then in case
one is lost (a listener reconnecting, a job whose retry time comes). On SQLite there is no listener; the
in-process worker is woken by the writer's commit callback and polls otherwise.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Connection, Engine, text

from casehooks.logs import get_logger
from casehooks.store.engine import is_postgresql

log = get_logger("casehooks.store")

CHANNEL = "casehooks_jobs"
_RECONNECT_SECONDS = 1.0


def notify_jobs(connection: Connection) -> None:
    """Tell listening workers that this transaction adds runnable jobs; sent by PostgreSQL only on commit."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"NOTIFY {CHANNEL}"))


class JobListener:
    """A thread on its own connection that calls ``wake`` for every notification on the jobs channel."""

    def __init__(self, engine: Engine, wake: Callable[[], None], *, check_every: float = 1.0) -> None:
        self._dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._wake = wake
        self._check_every = check_every
        self._stopping = threading.Event()
        self.listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="casehooks-listener", daemon=True)

    @classmethod
    def for_engine(cls, engine: Engine, wake: Callable[[], None]) -> JobListener | None:
        """A started listener on PostgreSQL; None on engines without notifications."""
        if not is_postgresql(engine):
            return None
        listener = cls(engine, wake)
        listener._thread.start()
        return listener

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=self._check_every + 5)

    def _run(self) -> None:
        import psycopg  # only PostgreSQL deployments need the driver

        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True, connect_timeout=10) as connection:
                    connection.execute(f"LISTEN {CHANNEL}".encode())
                    self.listening.set()
                    # Jobs may have been committed while no one was listening.
                    self._wake()
                    while not self._stopping.is_set():
                        for _ in connection.notifies(timeout=self._check_every):
                            self._wake()
            except psycopg.Error as exc:
                self.listening.clear()
                log.warning("job_listener_reconnecting", error=type(exc).__name__)
                self._stopping.wait(_RECONNECT_SECONDS)
