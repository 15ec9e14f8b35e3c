"""Payment details a patient entered through a payment link. The masked card and both addresses are PHI."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from casehooks.events.documented import Doc, WireModel

_PHI = Doc("string", phi=True)
_PHI_OR_NULL = Doc("string", nullable=True, phi=True)


class PostalAddress(WireModel):
    """A shipping or billing address; ``country`` is an ISO-2 code."""

    address_line1: Annotated[str | None, _PHI, Field(alias="addressLine1")] = None
    address_line2: Annotated[str | None, _PHI_OR_NULL, Field(alias="addressLine2")] = None
    city: Annotated[str | None, _PHI] = None
    state: Annotated[str | None, _PHI] = None
    country: Annotated[str | None, _PHI] = None
    postal_code: Annotated[str | None, _PHI] = None


class PaymentInfo(WireModel):
    """``payload.paymentInfo``: the card as the platform shows it, and where to ship and bill."""

    masked_card_number: Annotated[str | None, _PHI] = None
    card_brand: Annotated[str | None, Doc("string")] = None
    shipping_address: Annotated[PostalAddress | None, Doc("object", nullable=True)] = None
    billing_address: Annotated[PostalAddress | None, Doc("object", nullable=True)] = None
