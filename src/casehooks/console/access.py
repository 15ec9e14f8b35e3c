"""Roles and scopes decide what a reader may see and do; PHI is masked here, server-side, in one place.

    role        read  phi  restricted  actions  admin
    admin        x     x       x          x       x
    clinician    x     x       x
    operator     x                        x
    viewer       x

An API token carries scopes too: what it may do is what both its owner's role and its scopes allow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from casehooks.store.audit import AuditEntry


class Role(StrEnum):
    ADMIN = "admin"
    CLINICIAN = "clinician"
    OPERATOR = "operator"
    VIEWER = "viewer"


class Scope(StrEnum):
    READ = "read"  # events, cases, queue and quarantine, masked
    PHI = "phi"  # submitter details, comment text, file names and contents
    RESTRICTED = "restricted"  # items marked internal-only
    ACTIONS = "actions"  # replay, reprocess, retry
    ADMIN = "admin"  # the audit log and the users


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.ADMIN: frozenset(Scope),
    Role.CLINICIAN: frozenset({Scope.READ, Scope.PHI, Scope.RESTRICTED}),
    Role.OPERATOR: frozenset({Scope.READ, Scope.ACTIONS}),
    Role.VIEWER: frozenset({Scope.READ}),
}

MASK = "•••"


@dataclass(frozen=True, slots=True)
class Reader:
    """Who is reading (a user, through a session or a token) and what they may do."""

    username: str
    role: Role
    scopes: frozenset[Scope]
    via: str  # "session" or "token:<id>"
    client: str | None = None  # the client address the request came from
    session: str | None = None  # a short digest naming the session, for the audit log

    @classmethod
    def of(
        cls,
        username: str,
        role: str,
        via: str,
        token_scopes: Iterable[str] | None = None,
        *,
        client: str | None = None,
        session: str | None = None,
    ) -> Reader:
        granted = ROLE_SCOPES[Role(role)]
        if token_scopes is not None:
            granted = granted & {Scope(scope) for scope in token_scopes if scope in Scope.__members__.values()}
        return cls(username, Role(role), frozenset(granted), via, client, session)

    def may(self, scope: Scope) -> bool:
        return scope in self.scopes

    def entry(self, action: str, object_type: str, object_id: str | None, at: datetime) -> AuditEntry:
        """The audit log's record of this reader doing ``action`` to an object."""
        return AuditEntry(at, self.username, self.via, action, object_type, object_id, self.client, self.session)


def refused_scopes(role: Role, scopes: Iterable[Scope]) -> list[Scope]:
    """The scopes a token of a user with ``role`` asks for but could never use: refused when it is created."""
    return sorted(set(scopes) - ROLE_SCOPES[role])


def _restricted_stub(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": item["kind"],
        "at": item["at"],
        "id": item["id"],
        "is_restricted": True,
        "masked": True,
        "hidden": True,
    }


def mask_case(case: dict[str, Any], reader: Reader) -> dict[str, Any]:
    """A case timeline fit for ``reader``: it must have been read with ``reveal`` only if the reader has PHI,
    and with every restricted item; restricted items the reader may not see stay on the timeline as marks (a
    restricted comment or file on a card, as a mark on that card)."""
    shown = dict(case)
    phi = reader.may(Scope.PHI)
    allowed = reader.may(Scope.RESTRICTED)
    shown["masked"] = not phi
    timeline = []
    for item in case["timeline"]:
        if item.get("is_restricted") and not allowed:
            timeline.append(_restricted_stub(item))
            continue
        card = {**item, "masked": not phi}
        if not allowed:
            comment = card.get("comment")
            if isinstance(comment, dict) and comment.get("is_restricted"):
                card["comment"] = _restricted_stub({**comment, "kind": "comment", "at": comment.get("created_at")})
            if isinstance(card.get("attachments"), list):
                card["attachments"] = [
                    _restricted_stub({**file, "kind": "attachment", "at": file.get("created_at")})
                    if file.get("is_restricted")
                    else file
                    for file in card["attachments"]
                ]
        timeline.append(card)
    shown["timeline"] = timeline
    if not phi:
        _drop_phi(shown)
    return shown


# Keys that only ever come from sealed columns; dropped again here so that a read with reveal by mistake
# still shows nothing to a reader without PHI.
_PHI_KEYS = frozenset(
    {
        "title",
        "referralCode",
        "archiveReason",
        "text",
        "fileName",
        "documentUrl",
        "valueBefore",
        "valueAfter",
        "details",
    }
)
_PERSON_KEYS = frozenset({"id", "role"})


def _drop_phi(case: dict[str, Any]) -> None:
    for key in _PHI_KEYS:
        case.pop(key, None)
    if isinstance(case.get("submitter"), dict):
        case["submitter"] = _person(case["submitter"])
    for item in case["timeline"]:
        nested = [item.get("comment"), *(item.get("attachments") or []), *(item.get("objects") or [])]
        for part in [item, *(part for part in nested if isinstance(part, dict))]:
            for key in _PHI_KEYS:
                part.pop(key, None)
            for who in ("actor", "target_user", "author"):
                if isinstance(part.get(who), dict):
                    part[who] = _person(part[who])


def _person(person: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in person.items() if key in _PERSON_KEYS}


def mask_attachment(meta: dict[str, Any], reader: Reader) -> dict[str, Any]:
    if reader.may(Scope.PHI):
        return {**meta, "masked": False}
    return {**{key: value for key, value in meta.items() if key not in _PHI_KEYS}, "masked": True}


# What a payload shows a reader without PHI access: identifiers, stamps, states and flags. Everything else (names,
# contact details, dob, addresses, text, file names, the case type) becomes the mask.
_PLAIN_PAYLOAD_KEYS = frozenset({"id", "event", "status", "role", "shortId"})


def redact_payload(value: Any, key: str = "") -> Any:
    """A webhook payload with every value that may be PHI replaced by the mask; its shape is kept."""
    if isinstance(value, dict):
        return {name: redact_payload(item, str(name)) for name, item in value.items()}
    if isinstance(value, list):
        return [redact_payload(item, key) for item in value]
    if value is None:
        return None
    if isinstance(value, bool) and key.startswith("is"):
        return value
    if key in _PLAIN_PAYLOAD_KEYS or key.endswith(("Id", "At")):
        return value
    return MASK
