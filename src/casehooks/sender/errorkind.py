"""A fixed word for a transport failure, shared by the sandbox's delivery and ``trigger``."""

from __future__ import annotations

import httpx


def error_kind(exc: httpx.HTTPError) -> str:
    """A fixed word for a transport failure (never the message, which may echo a URL or data)."""
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "protocol"
    if isinstance(exc, httpx.TransportError):
        return "transport"
    return "http"
