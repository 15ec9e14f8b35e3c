"""A started ``casehooks serve`` with a user and an API token per role, and a few signed events in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import httpx

from casehooks.console.access import ROLE_SCOPES, Role
from tests.processes import Server, run_cli, start_server
from tests.receiver.events import attachment_event, comment_event, signed

SECRET = "console-secret"
PASSWORD = "a good long password"


def pdf(text: str) -> bytes:
    """A small, valid one-page PDF that shows ``text``."""
    stream = f"BT /F1 24 Tf 40 100 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer << /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


PDF = pdf("Lab results: SECRET-FILE-CONTENT-42")


@dataclass
class Running:
    server: Server
    tokens: dict[Role, str] = field(default_factory=dict)
    attachment_id: str = ""
    comment_event_id: str = ""

    admin_role: Role = Role.ADMIN

    def api(self, role: Role | None) -> httpx.Client:
        headers = {"authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.Client(base_url=self.server.url, headers=headers, timeout=30)

    def post(self, event: dict[str, object]) -> None:
        body, headers = signed(event, SECRET)
        response = httpx.post(self.server.webhook, content=body, headers=headers, timeout=30)
        assert response.status_code == 200, response.text


def start_console(tmp_path: Path, **settings: object) -> Running:
    server = start_server(tmp_path, webhook_secret=SECRET, **settings)
    env = {**server.env, "CASEHOOKS_USER_PASSWORD": PASSWORD}
    running = Running(server)
    for role in Role:
        run_cli(env, "users", "add", role.value, "--role", role.value)
        scopes = [arg for scope in sorted(ROLE_SCOPES[role]) for arg in ("--scope", scope.value)]
        running.tokens[role] = run_cli(env, "tokens", "create", "--user", role.value, *scopes).stdout.strip()
    comment = comment_event(text="Patient reports chest pain XYZZY")
    attachment = attachment_event(PDF, file_name="zebulon-mri.pdf")
    running.post(comment)
    running.post(attachment)
    running.attachment_id = attachment["payload"]["attachment"]["id"]  # type: ignore[index]
    running.comment_event_id = comment["payload"]["activity"]["id"]  # type: ignore[index]
    refused = httpx.post(server.webhook, content=b"{}", headers={"x-cv-signature": "0" * 64})
    assert refused.status_code == 401
    return running
