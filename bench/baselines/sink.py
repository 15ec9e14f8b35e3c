"""A bare sink that answers 200 to every POST and counts them (``GET /count``)."""

from __future__ import annotations

from typing import Any

_received = 0


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global _received
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    if scope["method"] == "POST":
        _received += 1
        body = b'{"status":"accepted"}'
    else:
        body = str(_received).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})
