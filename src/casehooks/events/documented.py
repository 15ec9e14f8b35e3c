"""What the platform's documentation says of each field, attached to the models as metadata.

The models accept what the platform really sends; these notes let ``deviations`` compare the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel


@dataclass(frozen=True, slots=True)
class Doc:
    """The documented type of a field.

    ``wire_type`` is the documentation's own word (``string<UUID>``, ``boolean`` ...). ``nullable`` says the docs
    allow null; ``documented=False`` marks a field the examples carry but the attribute lists omit; ``phi`` marks
    protected health information (deviations show no value of any field anyway); ``enum`` names the documented
    closed set; ``optional`` marks a field that one documented shape carries and another omits, so its absence
    is no deviation.
    """

    wire_type: str
    nullable: bool = False
    documented: bool = True
    phi: bool = False
    enum: type[StrEnum] | None = None
    optional: bool = False


E = TypeVar("E", bound=StrEnum)


def _to_member(enum: type[E]) -> Any:
    values = {member.value: member for member in enum}

    def convert(value: Any) -> Any:
        return values.get(value, value) if isinstance(value, str) else value

    return convert


def open_enum(enum: type[E], doc: Doc) -> Any:
    """A field type that holds a member of ``enum`` or, for a value the docs do not list, the plain string."""
    return Annotated[
        Annotated[enum | str | None, Field(union_mode="left_to_right")],
        BeforeValidator(_to_member(enum)),
        doc,
    ]


class WireModel(BaseModel):
    """Base of every wire object: camelCase on the wire, snake_case in Python, unknown keys kept, immutable.

    Strict types: a boolean that arrives as ``"yes"`` is an error with its path, not a silent guess.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
        frozen=True,
        strict=True,
        ser_json_inf_nan="strings",
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON object this model reads from (round trip: same keys, same values)."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)
