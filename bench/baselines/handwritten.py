"""The receiver a user would write by hand: FastAPI + pydantic + SQLAlchemy ORM, an insert and a commit per
request. No signature check, no dedupe, no encryption, no quarantine: what casehooks is measured against."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel
from sqlalchemy import JSON, DateTime, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Received(Base):
    __tablename__ = "received"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event: Mapped[str] = mapped_column(String(80))
    case_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(DateTime)


class Envelope(BaseModel):
    event: str
    payload: dict[str, Any]


engine = create_engine(f"sqlite:///{os.environ['BENCH_DB']}", connect_args={"check_same_thread": False})
Base.metadata.create_all(engine)
app = FastAPI()


@app.post("/webhooks/carevalidate")
def receive(envelope: Envelope, request: Request) -> dict[str, str]:
    with Session(engine) as session:
        session.add(
            Received(
                event=envelope.event,
                case_id=(envelope.payload.get("case") or {}).get("id"),
                payload=envelope.payload,
                received_at=datetime.now(),
            )
        )
        session.commit()
    return {"status": "accepted"}
