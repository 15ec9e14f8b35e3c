"""Event bodies for receiver tests: the seed examples with fresh ids, chosen timestamps, real files."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from typing import Any

from casehooks.events import stringify
from casehooks.signing import sign
from tests.conftest import seed


def comment_event(
    *, case_id: str | None = None, updated_at: str | None = None, text: str | None = None
) -> dict[str, Any]:
    event = seed("add_case_comment")
    payload = event["payload"]
    payload["activity"]["id"] = str(uuid.uuid4())
    payload["comment"]["id"] = str(uuid.uuid4())
    payload["comment"]["attachments"] = []
    if case_id:
        payload["case"]["id"] = case_id
    if updated_at:
        payload["case"]["updatedAt"] = updated_at
    if text is not None:
        payload["comment"]["text"] = text
    return event


def attachment_event(content: bytes | str, *, file_name: str = "scan.pdf") -> dict[str, Any]:
    event = seed("add_case_attachment")
    payload = event["payload"]
    payload["activity"]["id"] = str(uuid.uuid4())
    payload["attachment"]["id"] = str(uuid.uuid4())
    payload["attachment"]["fileName"] = file_name
    payload["attachment"]["content"] = base64.b64encode(content).decode() if isinstance(content, bytes) else content
    return event


def body_of(event: dict[str, Any]) -> bytes:
    return stringify(event)


def signed(event: dict[str, Any], secret: str) -> tuple[bytes, dict[str, str]]:
    body = body_of(event)
    return body, {"content-type": "application/json", "x-cv-signature": sign(body, secret)}


def deep(event: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(event)


def loads(text: str) -> Any:
    return json.loads(text)
