"""Scenario 4: cost as the store grows. Ingest into an empty store against one holding a million events, and a
case-timeline page for a case of 10 comment events against one of 10,000 (pages of 10 cards on both)."""

from __future__ import annotations

import os
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from bench.ingest import SECRET, events_per_s
from bench.report import Row, median
from bench.servers import SERVER_CPU, start_casehooks
from casehooks.crypto import Keyring
from casehooks.events.wire import stringify
from casehooks.sender.fake import fake_event
from casehooks.settings import Settings
from casehooks.store import Store
from casehooks.store.engine import writer
from casehooks.store.tables import ActivityRow, CaseRow, CommentRow, EventRow, JobRow
from casehooks.store.timeline import case_timeline

BATCH = 20_000


def fill(
    store: Store,
    events: int,
    *,
    case_id: str | None = None,
    start: datetime | None = None,
    real_bodies: bool = False,
    comments: bool = False,
) -> None:
    """Insert ``events`` stored events (with case, activity and finished job rows) in bulk, as ingest leaves them;
    with ``comments`` each is a comment event whose comment rides on its activity's card.

    With ``real_bodies`` each event's sealed body is a real comment event under its own id, so that a worker
    can load and run it; otherwise the bodies are opaque bytes of the same size.
    """
    dek_id, sealed = store.vault.seal(os.urandom(3000), b"bench")
    template = fake_event("ADD_CASE_COMMENT", random.Random(5), attachment_bytes=0)
    now = start or datetime(2025, 1, 1, tzinfo=UTC)
    for offset in range(0, events, BATCH):
        count = min(BATCH, events - offset)
        ids = [str(uuid.uuid4()) for _ in range(count)]
        cases = [case_id or str(uuid.uuid4()) for _ in range(count)]
        stamps = [now + timedelta(seconds=offset + i) for i in range(count)]
        bodies = [_body(store, template, i) if real_bodies else (dek_id, sealed) for i in ids]
        with writer(store.engine).begin() as connection:
            connection.execute(
                EventRow.__table__.insert(),  # type: ignore[attr-defined]
                [
                    {
                        "id": i,
                        "event_type": "ADD_CASE_COMMENT",
                        "case_id": c,
                        "received_at": t,
                        "body_sha256": "0" * 64,
                        "body_size": 5000,
                        "body_sealed": body[1],
                        "dek_id": body[0],
                        "deviations": [],
                        "source": "bench",
                    }
                    for i, c, t, body in zip(ids, cases, stamps, bodies, strict=True)
                ],
            )
            connection.execute(
                ActivityRow.__table__.insert(),  # type: ignore[attr-defined]
                [
                    {
                        "id": i,
                        "case_id": c,
                        "event_id": i,
                        "type": "ADD_CASE_COMMENT",
                        "timestamp": t,
                        "values_sealed": sealed[:200],
                        "dek_id": dek_id,
                    }
                    for i, c, t in zip(ids, cases, stamps, strict=True)
                ],
            )
            connection.execute(
                JobRow.__table__.insert(),  # type: ignore[attr-defined]
                [
                    {
                        "event_id": i,
                        "status": "succeeded",
                        "attempts": 1,
                        "run_at": t,
                        "created_at": t,
                        "finished_at": t,
                    }
                    for i, t in zip(ids, stamps, strict=True)
                ],
            )
            if comments:
                connection.execute(
                    CommentRow.__table__.insert(),  # type: ignore[attr-defined]
                    [
                        {
                            "id": f"comment-{i}",
                            "case_id": c,
                            "event_id": i,
                            "created_at": t,
                            "has_phi_forms": False,
                            "text_sealed": sealed[:200],
                            "dek_id": dek_id,
                            "own_card": False,
                        }
                        for i, c, t in zip(ids, cases, stamps, strict=True)
                    ],
                )
            unique_cases = dict(zip(cases, stamps, strict=True))
            connection.execute(
                (postgresql if connection.dialect.name == "postgresql" else sqlite)
                .insert(CaseRow.__table__)
                .on_conflict_do_nothing(),
                [
                    {
                        "id": c,
                        "short_id": c[:10],
                        "status": "OPEN",
                        "updated_at": t,
                        "details_sealed": sealed[:300],
                        "dek_id": dek_id,
                        "last_event_id": "bench",
                        "first_seen_at": t,
                    }
                    for c, t in unique_cases.items()
                ],
            )


def _body(store: Store, template: dict[str, Any], event_id: str) -> tuple[str, bytes]:
    template["payload"]["activity"]["id"] = event_id
    return store.vault.seal(stringify(template), f"events:{event_id}".encode())


# Pages of equal size on both cases: the short case holds exactly one page.
PAGE = 10


def timeline_seconds(store: Store, case_id: str, repeat: int = 50) -> float:
    samples = []
    with store.engine.connect() as connection:
        for _ in range(repeat):
            started = time.perf_counter()
            case_timeline(connection, store.vault, case_id, limit=PAGE)
            samples.append(time.perf_counter() - started)
    return median(samples)


def run(stored: int = 1_000_000, count: int = 3000, rounds: int = 3) -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as folder:
        empty_dir, full_dir = Path(folder) / "empty", Path(folder) / "full"
        key = Keyring.generate_entry()
        full = Store.open(Settings(data_dir=full_dir, master_key=key))
        started = time.perf_counter()
        fill(full, stored)
        small_case, large_case = str(uuid.uuid4()), str(uuid.uuid4())
        fill(full, PAGE, case_id=small_case, comments=True)
        fill(full, 10_000, case_id=large_case, comments=True)
        print(f"growth: filled {stored:,} events in {time.perf_counter() - started:.0f} s")
        small = timeline_seconds(full, small_case)
        large = timeline_seconds(full, large_case)
        full.close()
        rates: dict[str, list[float]] = {"empty": [], "full": []}
        for round_number in range(rounds):
            order = [("empty", empty_dir), ("full", full_dir)]
            if round_number % 2:
                order.reverse()
            for name, data_dir in order:
                process = start_casehooks(data_dir, SECRET, cpu=SERVER_CPU, master_key=key)
                try:
                    rates[name].append(events_per_s(process, count, seed=100 + round_number))
                finally:
                    process.stop()
    rows.append(
        Row(
            "growth",
            f"ingest events/s at {stored:,} stored",
            median(rates["full"]),
            "empty store",
            median(rates["empty"]),
            "ratio >= 0.8 (cost <= 1.25x)",
        )
    )
    rows.append(
        Row(
            "growth",
            f"timeline page ms ({PAGE} cards), 10,000 comment events",
            large * 1000,
            f"{PAGE} comment events",
            small * 1000,
            "<= 1.25",
            False,
        )
    )
    return rows
