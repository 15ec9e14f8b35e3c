"""Pure parts of the detail pages: payload redaction, the return address after sign-in, confirmation tokens."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casehooks.console.access import MASK, redact_payload
from casehooks.console.auth import confirmation_token, safe_next
from tests.receiver.events import attachment_event, comment_event


def test_a_redacted_payload_keeps_ids_stamps_and_states_and_masks_everything_else() -> None:
    event = comment_event(text="Patient reports chest pain XYZZY")
    shown = redact_payload(event)
    text = json.dumps(shown)
    for phi in ("XYZZY", "Ritik", "Parikh", "1998-12-17", "+12286475628", "1271 6th Avenue", "GLP", "RITIK-GLSA-4"):
        assert phi not in text, phi
    assert shown["event"] == "ADD_CASE_COMMENT"
    assert shown["payload"]["case"]["id"] == event["payload"]["case"]["id"]
    assert shown["payload"]["case"]["createdAt"] == event["payload"]["case"]["createdAt"]
    assert shown["payload"]["case"]["isEscalated"] is True
    assert shown["payload"]["case"]["title"] == MASK


def test_file_names_and_urls_of_attachments_are_masked() -> None:
    text = json.dumps(redact_payload(attachment_event(b"%PDF-1.4", file_name="zebulon-mri.pdf")))
    assert "zebulon" not in text and "http" not in text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_redaction_keeps_the_shape_and_leaves_no_free_text(value: object) -> None:
    def leaves(item: object, key: str = "") -> list[tuple[str, object]]:
        if isinstance(item, dict):
            return [leaf for name, child in item.items() for leaf in leaves(child, name)]
        if isinstance(item, list):
            return [leaf for child in item for leaf in leaves(child, key)]
        return [(key, item)]

    for key, leaf in leaves(redact_payload(value)):
        plain_key = key in ("id", "event", "status", "role", "shortId") or key.endswith(("Id", "At"))
        assert leaf is None or leaf == MASK or plain_key or (isinstance(leaf, bool) and key.startswith("is"))


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "/console/login",
        "/console/login?next=/console/events",
        "/api/me",
        "https://evil.example/console/",
        "//evil.example/console/",
        "/console/\\evil",
        "/console/\nLocation: x",
        "/console/" + "a" * 1000,
    ],
)
def test_sign_in_returns_only_to_a_console_page(target: str | None) -> None:
    assert safe_next(target) is None


def test_a_console_page_with_its_query_is_returned_to() -> None:
    assert safe_next("/console/events?type=A&status=dead") == "/console/events?type=A&status=dead"


def test_a_confirmation_is_bound_to_session_action_filter_and_count() -> None:
    token = confirmation_token("session", "replay", "event_type=A", 3)
    assert token == confirmation_token("session", "replay", "event_type=A", 3)
    for other in (
        confirmation_token("other", "replay", "event_type=A", 3),
        confirmation_token("session", "retry", "event_type=A", 3),
        confirmation_token("session", "replay", "everything", 3),
        confirmation_token("session", "replay", "event_type=A", 4),
    ):
        assert other != token
