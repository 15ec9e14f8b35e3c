"""No PHI in logs, errors, metrics or listings, and none in plaintext at rest."""

from __future__ import annotations

import base64
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from tests.processes import run_cli, start_server
from tests.receiver.events import attachment_event, comment_event, signed

pytestmark = pytest.mark.acceptance

SECRET = "phi-secret"
PHI = [
    "Zebulon",
    "Quixotefield",
    "zq.unique@example.org",
    "1961-07-04",
    "742 Evergreen Terrace",
    "Springfieldia",
    "+15550100199",
    "chest pain XYZZY",
    "zebulon-mri.pdf",
    "SECRET-FILE-CONTENT-42",
]

APP = textwrap.dedent(
    """
    from casehooks import Receiver

    app = Receiver.from_env()


    @app.on("*")
    async def leaky(event) -> None:
        raise RuntimeError("failed for " + event.case.submitter.first_name)
    """
)


def with_phi(event: dict[str, object]) -> dict[str, object]:
    payload = event["payload"]
    assert isinstance(payload, dict)
    submitter = payload["case"]["submitter"]
    submitter.update(
        firstName="Zebulon",
        lastName="Quixotefield",
        email="zq.unique@example.org",
        dob="1961-07-04T00:00:00.000Z",
        address="742 Evergreen Terrace",
        city="Springfieldia",
        phoneNumber="+15550100199",
    )
    payload["case"]["title"] = "Case for Zebulon Quixotefield"
    return event


def test_phi_never_reaches_logs_errors_metrics_listings_or_disk(tmp_path: Path) -> None:
    (tmp_path / "leakyhooks.py").write_text(APP)
    server = start_server(
        tmp_path, app="leakyhooks:app", webhook_secret=SECRET, handler_max_attempts=2, handler_retry_base_seconds=0.05
    )
    seen: list[str] = []
    try:
        comment = with_phi(comment_event(text="Patient reports chest pain XYZZY"))
        attachment = with_phi(attachment_event(b"SECRET-FILE-CONTENT-42" * 100, file_name="zebulon-mri.pdf"))
        for event in (comment, attachment):
            response = httpx.post(server.webhook, content=signed(event, SECRET)[0], headers=signed(event, SECRET)[1])
            assert response.status_code == 200
            seen.append(response.text)
        wrong = httpx.post(
            server.webhook, content=signed(comment_event(), "wrong")[0], headers={"x-cv-signature": "0" * 64}
        )
        seen.append(wrong.text)
        bad = with_phi(comment_event())
        bad["payload"]["case"]["isArchived"] = "Zebulon"  # type: ignore[index]
        refused = httpx.post(server.webhook, content=signed(bad, SECRET)[0], headers=signed(bad, SECRET)[1])
        assert refused.status_code == 400
        seen.append(refused.text)
        time.sleep(1.5)  # the leaky handler fails and is retried
        seen.append(httpx.get(f"{server.url}/metrics").text)
        for args in (
            ("events", "list", "--json"),
            ("events", "list"),
            ("events", "show", comment["payload"]["activity"]["id"], "--json"),  # type: ignore[index]
            ("quarantine", "list", "--json"),
            ("cases", "list", "--json"),
            ("cases", "show", comment["payload"]["case"]["id"], "--no-reveal", "--json"),  # type: ignore[index]
        ):
            result = run_cli(server.env, *args)
            seen.extend([result.stdout, result.stderr])
    finally:
        server.stop()
    seen.append(server.output())
    everything = "\n".join(seen)
    assert "event_accepted" in everything  # the logs were captured
    for value in PHI:
        assert value not in everything, value

    at_rest = b"".join(path.read_bytes() for path in (tmp_path / "data").rglob("*") if path.is_file())
    for value in PHI:
        assert value.encode() not in at_rest, value
        assert base64.b64encode(value.encode())[:12] not in at_rest, value
