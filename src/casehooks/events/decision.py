"""A clinician's decision on a case, with the prescriptions it approves (``medInfo``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from casehooks.events.documented import Doc, WireModel, open_enum
from casehooks.events.enums import VisitType
from casehooks.events.timestamps import Timestamp

_PHI = Doc("string", phi=True)
_SEEN = Doc("string", optional=True)  # seen in real deliveries; the pages list no fields of medInfo
_TIME = Doc("string<date-time>")


class Prescriber(WireModel):
    """Who added the decision (``addedBy``): name, contact and credentials, all treated as PHI."""

    first_name: Annotated[str | None, _PHI] = None
    last_name: Annotated[str | None, _PHI] = None
    title: Annotated[str | None, Doc("string", nullable=True, phi=True)] = None
    email: Annotated[str | None, _PHI] = None
    phone_number: Annotated[str | None, _PHI] = None
    npi: Annotated[str | None, Doc("string", nullable=True, phi=True)] = None
    dea: Annotated[str | None, Doc("string", nullable=True, phi=True)] = None
    address: Annotated[str | None, _PHI] = None
    city: Annotated[str | None, _PHI] = None
    state: Annotated[str | None, _PHI] = None
    postal_code: Annotated[str | None, _PHI] = None


class Prescription(WireModel):
    """One item of ``medInfo``: a medicine, its dosage and how the pharmacy fills it."""

    id: Annotated[str | None, _SEEN] = None
    medicine: Annotated[str | None, Doc("string", optional=True, phi=True)] = None
    dosage: Annotated[str | None, Doc("string", optional=True, phi=True)] = None
    refill_count: Annotated[int | None, Doc("integer", optional=True, nullable=True)] = None
    pharmacy_instructions: Annotated[str | None, Doc("string", optional=True, nullable=True, phi=True)] = None
    dosing_frequency: Annotated[str | None, Doc("string", optional=True, nullable=True, phi=True)] = None
    external_id: Annotated[str | None, Doc("string | null", optional=True, nullable=True)] = None
    is_refill: Annotated[bool | None, Doc("boolean", optional=True)] = None
    treatment_period: Annotated[str | None, Doc("string", optional=True, nullable=True)] = None
    is_prior_auth_requested: Annotated[bool | None, Doc("boolean", optional=True)] = None


# Documented as an array; an older sketch shows one object. The shape that came is the shape written back.
MedInfo = Annotated[list[Prescription] | Prescription | None, Field(union_mode="left_to_right")]


class Decision(WireModel):
    """What both decision events carry: approval, visit type, period, text and prescriptions."""

    id: Annotated[str, Doc("string<UUID>")]
    is_approved: Annotated[bool | None, Doc("boolean")] = None
    is_no_decision: Annotated[bool | None, Doc("boolean")] = None
    start_date: Annotated[Timestamp | None, Doc("string<date-time>", nullable=True)] = None
    end_date: Annotated[Timestamp | None, Doc("string<date-time>", nullable=True)] = None
    decision_text: Annotated[str | None, Doc("string", nullable=True, phi=True)] = None
    category: Annotated[str | None, Doc("string | null", nullable=True)] = None
    created_at: Annotated[Timestamp | None, _TIME] = None
    visit_type: open_enum(VisitType, Doc("string", enum=VisitType)) = None  # type: ignore[valid-type]
    med_info: Annotated[MedInfo, Doc("array<object>", nullable=True)] = None

    @property
    def prescriptions(self) -> tuple[Prescription, ...]:
        """The prescriptions, whichever documented shape ``medInfo`` came in."""
        if self.med_info is None:
            return ()
        if isinstance(self.med_info, Prescription):
            return (self.med_info,)
        return tuple(self.med_info)


class AddedDecision(Decision):
    """The decision of ``ADD_CASE_DECISION``, with its prescriber."""

    added_by: Annotated[Prescriber | None, Doc("object")] = None


class DeletedDecision(Decision):
    """The decision of ``DECISION_DELETED``: the prescriber by id, and the billing flags."""

    added_by_id: Annotated[str | None, Doc("string")] = None
    is_indefinite: Annotated[bool | None, Doc("boolean")] = None
    case_id: Annotated[str | None, Doc("string<UUID>")] = None
    cost: Annotated[int | float | None, Doc("number | null", nullable=True), Field(union_mode="left_to_right")] = None
    is_paid: Annotated[bool | None, Doc("boolean")] = None
