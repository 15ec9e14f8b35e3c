"""The trigger's built-in document server: signed links over real loopback HTTP, valid 15 minutes, then 410."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import httpx

from casehooks.events import CaseAttachmentAdded, parse_event
from casehooks.sender.docserver import DocumentServer
from casehooks.sender.trigger import EventBodies, TriggerOptions, run_trigger
from tests.sender.sink import Sink


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 9, 3, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_link_is_fetchable_then_gone_after_15_minutes() -> None:
    clock = Clock()
    with DocumentServer(clock=clock) as server:
        server.add("a1", b"%PDF-1.7 secret labs")
        link = server.link("a1")
        assert httpx.get(link).content == b"%PDF-1.7 secret labs"
        clock.now += timedelta(minutes=14, seconds=59)
        assert httpx.get(link).status_code == 200
        clock.now += timedelta(seconds=1)
        gone = httpx.get(link)
        assert gone.status_code == 410 and gone.content == b""


def test_a_forged_or_altered_link_is_refused() -> None:
    with DocumentServer() as server:
        server.add("a1", b"data")
        link = server.link("a1")
        assert httpx.get(link.replace("sig=", "sig=0")).status_code == 403
        expires = int(link.split("expires=")[1].split("&")[0])
        assert httpx.get(link.replace(f"expires={expires}", f"expires={expires + 3600}")).status_code == 403
        assert httpx.get(f"{server.base_url}/documents/unknown").status_code == 403
        assert httpx.get(f"{server.base_url}/other").status_code == 404


def test_trigger_bodies_link_to_the_files_they_describe(sink: Sink) -> None:
    with DocumentServer() as server:
        options = TriggerOptions(
            url=sink.url,
            event_type="ADD_CASE_ATTACHMENT",
            count=3,
            templates=2,
            attachment_bytes=3000,
            document_format="URL",
            document_url=server.link,
            on_document=server.add,
            secret="s3cret",
        )
        bodies = EventBodies(options)
        for index in range(3):
            event = parse_event(bodies.body(index))
            assert isinstance(event, CaseAttachmentAdded)
            url = event.attachment.document_url
            assert url is not None and url.startswith(server.base_url)
            data = httpx.get(url).content
            assert len(data) == 3000 and data.startswith((b"\x89PNG", b"%PDF-"))
        summary = asyncio.run(run_trigger(options))
        assert summary.statuses == {200: 3}


def test_fake_events_register_every_file_they_carry() -> None:
    from casehooks.sender.fake import fake_event

    seen: dict[str, bytes] = {}
    event = fake_event("ADD_CASE_COMMENT", random.Random(3), attachment_bytes=100, on_document=seen.__setitem__)
    (attachment,) = event["payload"]["comment"]["attachments"]
    assert list(seen) == [attachment["id"]] and len(seen[attachment["id"]]) == 100
