"""Scenario 2: 1, 10 and 50 MiB files inline as base64. MB/s of body ingested and peak memory over the body
size, against writing the same decoded bytes straight to disk (fsync'd), measured in the same round.

Bodies past ``CASEHOOKS_STREAM_THRESHOLD_BYTES`` (4 MiB) are spooled and their files streamed out: the 10 and
50 MiB ones; the 1 MiB file (a 1.4 MB body) takes the in-memory path. Each is also posted by the same client
into a bare ASGI echo, the floor the HTTP transfer itself sets."""

from __future__ import annotations

import base64
import os
import socket
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench.report import Row, median
from bench.servers import start_casehooks, start_uvicorn
from casehooks.events.wire import stringify
from casehooks.signing import sign

SECRET = "bench-secret"
MIB = 1024 * 1024


def _event(content: bytes) -> bytes:
    import random

    from casehooks.sender.fake import fake_event

    event = fake_event("ADD_CASE_ATTACHMENT", random.Random(1), attachment_bytes=1)
    event["payload"]["activity"]["id"] = str(uuid.uuid4())
    event["payload"]["attachment"]["id"] = str(uuid.uuid4())
    event["payload"]["attachment"]["content"] = base64.b64encode(content).decode()
    return stringify(event)


def _straight_to_disk(content: bytes, folder: Path) -> float:
    started = time.perf_counter()
    target = folder / "plain.bin"
    with target.open("wb") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())
    target.unlink()
    return time.perf_counter() - started


def post_raw(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, float]:
    """POST ``body`` on a fresh connection with one ``sendall``; the answer's status and the seconds from the
    first byte sent to the end of the answer's head."""
    parts = urlsplit(url)
    head = [f"POST {parts.path or '/'} HTTP/1.1", f"host: {parts.netloc}", f"content-length: {len(body)}"]
    head += [f"{name}: {value}" for name, value in {"content-type": "application/json", **headers}.items()]
    request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
    with socket.create_connection((parts.hostname, parts.port or 80), timeout=300) as connection:
        started = time.perf_counter()
        connection.sendall(request)
        connection.sendall(body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = connection.recv(65536)
            if not data:
                raise RuntimeError("the server closed the connection without an answer")
            answer += data
        elapsed = time.perf_counter() - started
    return int(answer.split(b" ", 2)[1]), elapsed


def _bare_upload(body: bytes) -> float:
    # The floor the HTTP transfer sets: the same body posted by the same client into a bare ASGI echo.
    echo = start_uvicorn("bare", "bench.baselines.bare:app")
    try:
        httpx.post(echo.url, content=b"warm up", timeout=60)
        status, elapsed = post_raw(echo.url, body, {})
        if status != 200:
            raise RuntimeError(f"the echo answered {status}")
        return elapsed
    finally:
        echo.stop()


def run(sizes_mib: tuple[int, ...] = (1, 10, 50), rounds: int = 3) -> list[Row]:
    rows: list[Row] = []
    for size in sizes_mib:
        ours_mbps: list[float] = []
        disk_mbps: list[float] = []
        bare_mbps: list[float] = []
        growth: list[float] = []
        for _ in range(rounds):
            content = os.urandom(size * MIB)
            body = _event(content)
            with tempfile.TemporaryDirectory() as folder:
                # The first write after a while is slow (fresh pages), the next ones not: the median of five.
                writes = [_straight_to_disk(content, Path(folder)) for _ in range(5)]
                disk_mbps.append(len(body) / MIB / median(writes))
                bare_mbps.append(len(body) / MIB / _bare_upload(body))
                process = start_casehooks(Path(folder) / "data", SECRET, max_body_bytes=str(200 * MIB))
                try:
                    # First-request costs (imports, caches) are not the file's: one small body and one just past
                    # the streaming threshold when the measured body streams (smaller, so its peak is not the one read).
                    streamed = size * MIB * 4 // 3 > 4 * MIB  # the default threshold
                    warms = [_event(b"warm up" * 100)] + ([_event(os.urandom(3 * MIB))] if streamed else [])
                    for warm in warms:
                        signature = {"x-cv-signature": sign(warm, SECRET)}
                        httpx.post(process.url, content=warm, headers=signature, timeout=60)
                    before = process.status("VmRSS")
                    status, elapsed = post_raw(process.url, body, {"x-cv-signature": sign(body, SECRET)})
                    if status != 200:
                        raise RuntimeError(f"attachment of {size} MiB answered {status}")
                    peak = process.status("VmHWM")
                finally:
                    process.stop()
            ours_mbps.append(len(body) / MIB / elapsed)
            growth.append((peak - before) / len(body))
        rows.append(
            Row(
                "attachments",
                f"{size} MiB body MB/s",
                median(ours_mbps),
                "write to disk",
                median(disk_mbps),
                ">= 0.5",
            )
        )
        rows.append(
            Row("attachments", f"{size} MiB body MB/s", median(ours_mbps), "bare ASGI upload", median(bare_mbps), "")
        )
        rows.append(
            Row("attachments", f"{size} MiB peak RSS growth / body", median(growth), "body", 1.0, "<= 0.25", False)
        )
    return rows
