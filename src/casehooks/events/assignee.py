"""A user assigned to, or removed from, a case."""

from __future__ import annotations

from typing import Annotated

from casehooks.events.documented import Doc, WireModel

_PHI = Doc("string", phi=True)


class Assignee(WireModel):
    """A platform user; ids are 28-character opaque strings."""

    id: Annotated[str | None, Doc("string")] = None
    first_name: Annotated[str | None, _PHI] = None
    last_name: Annotated[str | None, _PHI] = None


class Assignment(WireModel):
    """One item of ``payload.assignees``."""

    assignee: Annotated[Assignee | None, Doc("object")] = None
