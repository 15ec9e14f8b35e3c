"""Request bodies of the sandbox's object changes (decisions, forms, orders, payment info, appointments).

Fields are the documented wire fields (camelCase); ``wire()`` gives them back as the event writes them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from casehooks.sender.api_models import ApiModel, UserIn

VisitType = Literal["NO_SHOW", "ASYNC_TEXT_EMAIL", "SYNC_VIDEO", "SYNC_PHONE", "ORDER_FORM", "SYNC_IN_PERSON"]
QuestionType = Literal[
    "TEXT",
    "SINGLESELECT",
    "MULTISELECT",
    "DATE",
    "FILE",
    "BOOLEAN",
    "DATERANGE",
    "STATEMENT",
    "WIDGET_STATE_PICKER",
    "WIDGET_BMI",
    "WIDGET_VISIT_TYPE",
    "WIDGET_USER_ID_DOCUMENT",
]


class WireModel(ApiModel):
    def wire(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude={"actor"})


class MedInfoIn(WireModel):
    medicine: str
    dosage: str
    refill_count: int = Field(default=0, ge=0)
    pharmacy_instructions: str = ""
    dosing_frequency: str
    external_id: str | None = None
    is_refill: bool = False
    treatment_period: str | None = None
    is_prior_auth_requested: bool = False


class PrescriberIn(WireModel):
    first_name: str
    last_name: str
    title: str | None = None
    email: str | None = None
    phone_number: str | None = None
    npi: str | None = None
    dea: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None


class DecisionIn(WireModel):
    is_approved: bool
    is_no_decision: bool = False
    decision_text: str
    visit_type: VisitType
    category: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    med_info: list[MedInfoIn] = Field(default_factory=list)
    added_by: PrescriberIn
    actor: UserIn


class QuestionIn(WireModel):
    type: QuestionType
    text: str
    is_phi: bool = Field(default=False, alias="isPHI")
    options: list[str] = Field(default_factory=list)
    required: bool = False


class AnswerIn(WireModel):
    question: QuestionIn
    text: str


class FormDefinitionIn(WireModel):
    name: str
    description: str | None = None


class FormIn(WireModel):
    form: FormDefinitionIn
    answers: list[AnswerIn] = Field(min_length=1)
    actor: UserIn


class OrderIn(WireModel):
    message: str = ""
    actor: UserIn


class TrackingIn(WireModel):
    tracking_id: str = Field(min_length=1)
    status: str = "SHIPPED"
    actor: UserIn


class AddressIn(WireModel):
    address_line1: str
    address_line2: str = ""
    city: str
    state: str
    country: str = Field(min_length=2, max_length=2)
    postal_code: str


class PaymentInfoIn(WireModel):
    card_last4: str = Field(pattern=r"^[0-9]{4}$")
    card_brand: str
    shipping_address: AddressIn
    billing_address: AddressIn | None = None
    actor: UserIn


class MeetingNoteIn(WireModel):
    question: str
    answer: str
    position: int


class AppointmentIn(WireModel):
    start_date_time: str
    end_date_time: str
    timezone: str
    title: str | None = None
    topic: str | None = None
    description: str | None = None
    color: str | None = None
    meeting_provider: str | None = None
    meeting_notes: list[MeetingNoteIn] = Field(default_factory=list)
    actor: UserIn


class RescheduleIn(WireModel):
    start_date_time: str
    end_date_time: str
    actor: UserIn


class DeleteDecisionIn(WireModel):
    """Who deletes a decision or cancels an appointment."""

    actor: UserIn
