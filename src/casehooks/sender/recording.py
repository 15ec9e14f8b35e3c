"""Recording delivery attempts: a batch's attempt rows, each outbox row's fate (delivered, retried, dead), and
each endpoint's run of failures, which disables it once it is long enough in count and in time.

An endpoint is disabled (until re-enabled through the API) once it has failed ``disable_after`` times in a row
AND for ``disable_after_seconds`` without a success: a short outage never disables it.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, func, insert, update

from casehooks.logs import get_logger
from casehooks.sender import outbox
from casehooks.sender.message import Result, succeeded
from casehooks.sender.outbox import Claimed
from casehooks.sender.schedule import is_retryable
from casehooks.sender.tables import attempts, endpoints

if TYPE_CHECKING:
    from casehooks.sender.delivery import DeliveryConfig

log = get_logger("casehooks.sandbox.delivery")


def should_disable(failures: int, failing_for: float, config: DeliveryConfig) -> bool:
    """The disabling policy: enough failed attempts in a row AND long enough without a success."""
    return failures >= config.disable_after and failing_for >= config.disable_after_seconds


def record_attempts(
    engine: Engine,
    batch: list[tuple[Claimed, Result]],
    *,
    owner: str,
    now: float,
    config: DeliveryConfig,
    rng: random.Random,
) -> None:
    """Record a batch of attempts in one transaction: the attempt rows in one statement, then each row's fate."""
    with engine.begin() as conn:
        conn.execute(
            insert(attempts),
            [
                {
                    "outbox_id": item.id,
                    "endpoint_id": item.endpoint_id,
                    "activity_id": item.activity_id,
                    "attempt": item.attempt,
                    "at": now,
                    "status": result.status,
                    "error": result.error,
                    "latency_ms": round(result.latency_ms, 3),
                    "response_excerpt": result.excerpt,
                }
                for item, result in batch
            ],
        )
        # Successes in one statement and each endpoint's failure count reset once; a batch holding both a
        # success and a failure for one endpoint counts the failure last (the count is "about" in a row).
        delivered = [(item, result) for item, result in batch if succeeded(result)]
        outbox.mark_delivered_many(conn, [(item.id, result.status or 0) for item, result in delivered], owner, now=now)
        for endpoint_id in sorted({item.endpoint_id for item, _ in delivered}):
            conn.execute(
                update(endpoints)
                .where(
                    endpoints.c.id == endpoint_id,
                    (endpoints.c.consecutive_failures != 0) | endpoints.c.failing_since.is_not(None),
                )
                .values(consecutive_failures=0, failing_since=None)
            )
        for item, result in batch:
            if not succeeded(result):
                _record_failure(conn, item, result, now, owner=owner, config=config, rng=rng)


def _record_failure(
    conn: Connection,
    item: Claimed,
    result: Result,
    now: float,
    *,
    owner: str,
    config: DeliveryConfig,
    rng: random.Random,
) -> None:
    delay = None
    if result.error != "refused" and is_retryable(result.status, result.error):
        delay = config.schedule.next_delay(item.attempt, rng, result.retry_after)
    if delay is None:
        outbox.mark_dead(conn, item.id, owner, status=result.status, error=result.error)
    else:
        outbox.mark_retry(conn, item.id, owner, due_at=now + delay, status=result.status, error=result.error)
    failures, since = conn.execute(
        update(endpoints)
        .where(endpoints.c.id == item.endpoint_id)
        .values(
            consecutive_failures=endpoints.c.consecutive_failures + 1,
            failing_since=func.coalesce(endpoints.c.failing_since, now),
        )
        .returning(endpoints.c.consecutive_failures, endpoints.c.failing_since)
    ).one()
    if should_disable(failures, now - since, config):
        conn.execute(
            update(endpoints)
            .where(endpoints.c.id == item.endpoint_id, endpoints.c.enabled.is_(True))
            .values(enabled=False, disabled_reason=f"failing for {round(now - since)} s ({failures} attempts)")
        )
        log.warning("endpoint disabled", endpoint_id=item.endpoint_id, failures=failures)
    log.debug(
        "delivery attempt",
        outbox_id=item.id,
        endpoint_id=item.endpoint_id,
        activity_id=item.activity_id,
        attempt=item.attempt,
        status=result.status,
        error=result.error,
    )
