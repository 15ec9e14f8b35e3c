"""Sign-in throttling over real HTTP, with two receiver processes sharing one database."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest

from tests.console.running import PASSWORD, Running, start_console
from tests.processes import Server, free_port, run_cli

pytestmark = pytest.mark.acceptance
ATTACKER = "127.0.0.3"  # another loopback address: the client side of the connection names it


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, Server]]:
    folder = tmp_path_factory.mktemp("sign-in")
    first = start_console(folder)
    port = free_port()
    second = Server(f"http://127.0.0.1:{port}", first.server.env, folder / "second.log", ["--port", str(port)], folder)
    second.start(timeout=120)
    yield first, second
    second.stop()
    first.server.stop()


def client(url: str, address: str = "127.0.0.1") -> httpx.Client:
    return httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address=address), timeout=60)


def sign_in(session: httpx.Client, username: str, password: str) -> str:
    """``signed_in``, or the login page's error: ``wrong`` or ``locked``."""
    form = session.get("/console/login").text
    nonce = re.search(r'name="nonce" value="([^"]+)"', form)
    assert nonce
    response = session.post("/console/login", data={"nonce": nonce[1], "username": username, "password": password})
    assert response.status_code == 303
    location = response.headers["location"]
    return "signed_in" if location == "/console/" else location.rpartition("error=")[2]


def test_wrong_passwords_through_two_processes_lock_the_account_until_an_admin_unlocks_it(
    two: tuple[Running, Server],
) -> None:
    first, second = two
    with client(first.server.url) as one, client(second.url) as other:
        outcomes = [sign_in(one if attempt % 2 else other, "clinician", "wrong guess") for attempt in range(200)]
        # The limit (10) counts the failures seen by both processes together; the rest are refused unhashed.
        assert outcomes[:9] == ["wrong"] * 9
        assert set(outcomes[9:]) == {"locked"}
        assert sign_in(one, "clinician", PASSWORD) == "locked"
        assert sign_in(other, "clinician", PASSWORD) == "locked"
        assert sign_in(one, "viewer", PASSWORD) == "signed_in"  # locked tries do not count against the address
    run_cli(first.server.env, "users", "unlock", "clinician")
    with client(second.url) as other:
        assert sign_in(other, "clinician", PASSWORD) == "signed_in"
    rows = json.loads(
        run_cli(first.server.env, "audit", "list", "--user", "clinician", "--limit", "500", "--json").stdout
    )["items"]
    actions = [row["action"] for row in rows]
    assert actions.count("sign_in_failed") == 10 and actions.count("sign_in_locked") == 192
    assert {row["client"] for row in rows if row["action"].startswith("sign_in")} == {"127.0.0.1"}
    # Both processes appended to one chain.
    assert "intact" in run_cli(first.server.env, "audit", "verify").stdout


def test_many_names_tried_from_one_address_lock_that_address_only(two: tuple[Running, Server]) -> None:
    first, second = two
    with client(first.server.url, ATTACKER) as attacker:
        outcomes = [sign_in(attacker, f"ghost-{number}", "wrong guess") for number in range(60)]
        assert outcomes[:49] == ["wrong"] * 49
        assert set(outcomes[49:]) == {"locked"}
        assert sign_in(attacker, "operator", PASSWORD) == "locked"
    with client(second.url, ATTACKER) as attacker:
        assert sign_in(attacker, "operator", PASSWORD) == "locked"
    with client(second.url) as other:
        assert sign_in(other, "operator", PASSWORD) == "signed_in"
    rows = json.loads(run_cli(first.server.env, "audit", "list", "--limit", "1000", "--json").stdout)["items"]
    assert {row["client"] for row in rows if row["username"].startswith("ghost-")} == {ATTACKER}
    assert "wrong guess" not in json.dumps(rows) + first.server.output() + second.output()
