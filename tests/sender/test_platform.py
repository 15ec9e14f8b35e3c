from datetime import UTC, datetime

from casehooks.events.enums import CaseStatus
from casehooks.sender.payloads import CaseSnapshot, Patient
from casehooks.sender.platform import status_changes

NOW = datetime(2025, 9, 3, 12, 0, tzinfo=UTC)
LATER = datetime(2025, 9, 4, 12, 0, tzinfo=UTC)
PATIENT = Patient("p" * 28, "Ada", "Example", "a@example.test", NOW, "FEMALE", "+1", "1 St", "", "C", "CA", "1")


def _case(**fields: object) -> CaseSnapshot:
    base: dict[str, object] = {
        "id": "c",
        "type": "GLP",
        "title": "t",
        "status": "OPEN",
        "short_id": "ADA-AAAAAA",
        "created_at": NOW,
        "updated_at": NOW,
        "organization_id": "o",
        "product_bundle": "b",
        "submitter": PATIENT,
    }
    return CaseSnapshot(**{**base, **fields})  # type: ignore[arg-type]


def test_first_assignment_sets_assigned_at_once() -> None:
    assert status_changes(_case(), CaseStatus.ASSIGNED, "u", NOW)["assigned_at"] == NOW
    assert "assigned_at" not in status_changes(_case(assigned_at=NOW), CaseStatus.IN_PROGRESS, "u", LATER)


def test_in_progress_records_who_and_when() -> None:
    values = status_changes(_case(assigned_at=NOW), CaseStatus.IN_PROGRESS, "doc", LATER)
    assert values == {"status": "IN_PROGRESS", "in_progress_at": LATER, "in_progress_by": "doc"}


def test_closing_records_closed_at_and_by() -> None:
    values = status_changes(_case(assigned_at=NOW, in_progress_at=NOW), CaseStatus.REJECTED, "doc", LATER)
    assert values["closed_at"] == LATER
    assert values["closed_by"] == "doc"


def test_reopening_clears_the_close() -> None:
    closed = _case(assigned_at=NOW, in_progress_at=NOW, closed_at=NOW, closed_by="doc", status="APPROVED")
    values = status_changes(closed, CaseStatus.IN_PROGRESS, "doc", LATER)
    assert values["closed_at"] is None
    assert values["closed_by"] is None
