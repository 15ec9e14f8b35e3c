"""The bench's pre-signed requests: unique, each verifying over its exact bytes as the receiver checks them."""

from __future__ import annotations

import json
from pathlib import Path

from bench.load import signed_requests

from casehooks.events import parse_event
from casehooks.sender.trigger import TriggerOptions
from casehooks.signing import SIGNATURE_HEADER, verify


def test_every_request_is_unique_signed_over_its_bytes_and_parses(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    signed_requests(path, TriggerOptions(url="", count=200, secret="s3cret", attachment_bytes=1800, seed=1))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 200
    ids = set()
    for line in lines:
        body = line["body"].encode()
        verify(body, line["headers"][SIGNATURE_HEADER], "s3cret")
        ids.add(parse_event(body).payload.activity.id)
    assert len(ids) == 200
