"""The sandbox API's routes for the registered receivers: endpoints, their secrets, delivery log and outbox."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query
from sqlalchemy import Engine, insert, select, update

from casehooks.errors import NotFound
from casehooks.sender import outbox
from casehooks.sender.api_models import AttemptOut, EndpointIn, EndpointOut, EndpointPatch, MessageOut
from casehooks.sender.message import signing_secret
from casehooks.sender.sealing import SecretBox
from casehooks.sender.tables import attempts, endpoints
from casehooks.sender.tables import outbox as outbox_rows
from casehooks.sender.urlpolicy import OutboundRefused, UrlPolicy


def add_endpoint_routes(
    app: FastAPI,
    db: Callable[[], Engine],
    box: Callable[[], SecretBox],
    clock: Callable[[], datetime],
    policy: UrlPolicy,
    committed: Callable[[], None],
) -> None:
    """Mount the endpoint routes; ``db`` and ``box`` are read when a request comes (the app's lifespan makes
    them), ``committed`` wakes the delivery worker."""

    @app.post("/endpoints", status_code=201, tags=["endpoints"])
    def register_endpoint(body: EndpointIn) -> EndpointOut:
        """Register a receiver. Its URL must pass the outbound policy (no metadata or link-local hosts)."""
        try:
            policy.check_url(body.url)
        except OutboundRefused as exc:
            raise HTTPException(422, f"endpoint URL refused: {exc.reason}") from None
        if bool(body.auth_header_name) != bool(body.auth_header_value):
            raise HTTPException(422, "authHeaderName and authHeaderValue go together")
        endpoint_id = str(uuid.uuid4())
        with db().begin() as conn:
            conn.execute(
                insert(endpoints).values(
                    id=endpoint_id,
                    url=body.url,
                    secret=box().seal(body.secret, endpoint_id, "secret"),
                    auth_header_name=body.auth_header_name,
                    auth_header_value=box().seal(body.auth_header_value, endpoint_id, "auth_header_value"),
                    document_format=body.document_format,
                    event_types=body.event_types,
                    case_data=body.case_data,
                    enabled=True,
                    consecutive_failures=0,
                    created_at=clock(),
                )
            )
            row = conn.execute(select(endpoints).where(endpoints.c.id == endpoint_id)).one()
        return _endpoint_out(row)

    @app.get("/endpoints", tags=["endpoints"])
    def list_endpoints() -> list[EndpointOut]:
        with db().connect() as conn:
            return [_endpoint_out(row) for row in conn.execute(select(endpoints).order_by(endpoints.c.created_at))]

    def _endpoint(conn: Any, endpoint_id: str) -> Any:
        row = conn.execute(select(endpoints).where(endpoints.c.id == endpoint_id)).one_or_none()
        if row is None:
            raise NotFound("endpoint", endpoint_id)
        return row

    @app.get("/endpoints/{endpoint_id}", tags=["endpoints"])
    def get_endpoint(endpoint_id: str) -> EndpointOut:
        with db().connect() as conn:
            return _endpoint_out(_endpoint(conn, endpoint_id))

    @app.patch("/endpoints/{endpoint_id}", tags=["endpoints"])
    def patch_endpoint(endpoint_id: str, body: EndpointPatch) -> EndpointOut:
        """Enable or disable an endpoint (enabling clears its failure count), and/or rotate its secret.

        A new secret signs from ``now + secretOverlapSeconds`` on; until then the old one still signs, so the
        receiver can be given ``new,old`` at any moment of the window (it accepts both).
        """
        values: dict[str, Any] = {}
        if body.enabled is True:
            values.update(enabled=True, consecutive_failures=0, failing_since=None, disabled_reason=None)
        elif body.enabled is False:
            values.update(enabled=False, disabled_reason="disabled through the API")
        with db().begin() as conn:
            row = _endpoint(conn, endpoint_id)
            if body.secret is not None:
                values.update(_rotation(row, body.secret, body.secret_overlap_seconds))
            if values:
                conn.execute(update(endpoints).where(endpoints.c.id == endpoint_id).values(**values))
            row = _endpoint(conn, endpoint_id)
        committed()
        return _endpoint_out(row)

    def _rotation(row: Any, new_secret: str, overlap: float) -> dict[str, Any]:
        sealing = box()
        now = clock().timestamp()
        current = signing_secret(row, sealing, now)  # a rotation still in its window is finished first
        sealed_new = sealing.seal(new_secret, row.id, "next_secret")
        if overlap <= 0 or current is None:
            return {"secret": sealing.seal(new_secret, row.id, "secret"), "next_secret": None, "next_secret_from": None}
        return {
            "secret": sealing.seal(current, row.id, "secret"),
            "next_secret": sealed_new,
            "next_secret_from": now + overlap,
        }

    @app.get("/endpoints/{endpoint_id}/attempts", tags=["endpoints"])
    def list_attempts(endpoint_id: str, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[AttemptOut]:
        """The endpoint's delivery log, newest first: time, status, latency, the start of the answer."""
        with db().connect() as conn:
            _endpoint(conn, endpoint_id)
            rows = conn.execute(
                select(attempts)
                .where(attempts.c.endpoint_id == endpoint_id)
                .order_by(attempts.c.id.desc())
                .limit(limit)
            ).all()
        return [
            AttemptOut(
                outbox_id=r.outbox_id,
                activity_id=r.activity_id,
                attempt=r.attempt,
                at=r.at,
                status=r.status,
                error=r.error,
                latency_ms=r.latency_ms,
                response_excerpt=r.response_excerpt,
            )
            for r in rows
        ]

    @app.get("/endpoints/{endpoint_id}/messages", tags=["endpoints"])
    def list_messages(endpoint_id: str, state_: Annotated[str | None, Query(alias="state")] = None) -> list[MessageOut]:
        """The endpoint's outbox rows: pending, delivered or dead."""
        query = select(outbox_rows).where(outbox_rows.c.endpoint_id == endpoint_id)
        if state_ is not None:
            query = query.where(outbox_rows.c.state == state_)
        with db().connect() as conn:
            _endpoint(conn, endpoint_id)
            rows = conn.execute(query.order_by(outbox_rows.c.id)).all()
        return [
            MessageOut(
                id=r.id,
                activity_id=r.activity_id,
                endpoint_id=r.endpoint_id,
                state=r.state,
                attempts=r.attempts,
                last_status=r.last_status,
                last_error=r.last_error,
            )
            for r in rows
        ]

    @app.post("/messages/{message_id}/redeliver", status_code=202, tags=["endpoints"])
    def redeliver(message_id: int) -> dict[str, Any]:
        """Send an outbox row again now, whatever its state (dead, delivered or pending)."""
        with db().begin() as conn:
            if not outbox.redeliver(conn, message_id, now=clock().timestamp()):
                raise NotFound("message", str(message_id))
        committed()
        return {"id": message_id, "state": outbox.PENDING}


def _endpoint_out(row: Any) -> EndpointOut:
    return EndpointOut(
        id=row.id,
        url=row.url,
        document_format=row.document_format,
        event_types=list(row.event_types),
        enabled=row.enabled,
        consecutive_failures=row.consecutive_failures,
        disabled_reason=row.disabled_reason,
        signed=bool(row.secret or row.next_secret),
        auth_header_name=row.auth_header_name,
        case_data=row.case_data,
        secret_switches_at=row.next_secret_from if row.next_secret else None,
    )
