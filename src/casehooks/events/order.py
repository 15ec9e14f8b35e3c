"""A pharmacy order: its status and the carrier's tracking number."""

from __future__ import annotations

from typing import Annotated

from casehooks.events.documented import Doc, WireModel
from casehooks.events.timestamps import Timestamp


class Order(WireModel):
    """An order; its status is an open word (e.g. SHIPPED), its message may name the patient."""

    id: Annotated[str, Doc("string<UUID>")]
    status: Annotated[str | None, Doc("string", nullable=True)] = None
    tracking_id: Annotated[str | None, Doc("string", nullable=True)] = None
    message: Annotated[str | None, Doc("string", nullable=True, phi=True)] = None
    created_at: Annotated[Timestamp | None, Doc("string<date-time>")] = None
