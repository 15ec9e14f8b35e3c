"""The package's public face: what ``casehooks`` exports, and that a fresh interpreter can use it."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import casehooks
import casehooks.events

FIXTURES = Path(__file__).parent / "fixtures"
SRC = Path(casehooks.__file__).parent.parent


def test_every_export_exists() -> None:
    for name in casehooks.__all__:
        assert hasattr(casehooks, name), name


def test_exports_are_unique_and_sorted() -> None:
    assert len(set(casehooks.__all__)) == len(casehooks.__all__)
    assert sorted(casehooks.__all__) == casehooks.__all__


def test_no_private_name_is_exported() -> None:
    assert [name for name in casehooks.__all__ if name.startswith("_") and name != "__version__"] == []


def test_star_import_gives_exactly_the_exports() -> None:
    namespace: dict[str, object] = {}
    exec("from casehooks import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(casehooks.__all__)


def test_public_names_of_the_module_are_all_exported() -> None:
    # Exports are resolved on first use, so the module holds at most the exported names (and its submodules).
    public = {name for name in vars(casehooks) if not name.startswith("_")}
    submodules = {name for name, value in vars(casehooks).items() if isinstance(value, types.ModuleType)}
    assert public - submodules <= set(casehooks.__all__)
    assert set(dir(casehooks)) >= set(casehooks.__all__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = casehooks.no_such_thing  # type: ignore[attr-defined]


def test_importing_the_package_loads_neither_the_schema_nor_the_server() -> None:
    heavy = "('casehooks.events', 'casehooks.receiver', 'pydantic')"
    code = f"import sys, casehooks, casehooks.signing; print(sorted(m for m in sys.modules if m.startswith({heavy})))"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, env=env, timeout=60)
    assert completed.stdout.decode().strip() == "[]"


@pytest.mark.parametrize(
    "name",
    [
        "parse_event",
        "sign",
        "verify",
        "Event",
        "CaseEvent",
        "CaseAttachmentAdded",
        "CaseCommentAdded",
        "CaseDecisionAdded",
        "CaseDecisionDeleted",
        "FormResponseAdded",
        "FormResponseUpdated",
        "CaseAssigneeAdded",
        "CaseAssigneeRemoved",
        "OrderCreated",
        "OrderStatusChanged",
        "OrderTrackingAdded",
        "PaymentInfoAdded",
        "CalendarEventCreated",
        "CalendarEventRescheduled",
        "CalendarEventCanceled",
        "CalendarEventNoShow",
        "CalendarEventNoShowRemoved",
        "CalendarEventStatusUpdated",
        "SchemaError",
        "SignatureError",
        "CasehooksError",
    ],
)
def test_core_api_is_exported(name: str) -> None:
    assert name in casehooks.__all__


def test_every_error_derives_from_the_base() -> None:
    errors = [getattr(casehooks, name) for name in casehooks.__all__ if name.endswith(("Error", "TooLarge"))]
    errors += [casehooks.NotFound, casehooks.StoreUnavailable]
    assert all(issubclass(error, casehooks.CasehooksError) for error in errors)


def test_events_exports_exist() -> None:
    for name in casehooks.events.__all__:
        assert hasattr(casehooks.events, name), name


def test_every_modelled_event_class_is_exported_from_the_package() -> None:
    from casehooks.events.envelope import EVENT_CLASSES

    for cls in EVENT_CLASSES.values():
        assert getattr(casehooks, cls.__name__) is cls


def test_version_matches_the_distribution() -> None:
    text = (SRC.parent / "pyproject.toml").read_text()
    assert f'version = "{casehooks.__version__}"' in text


@pytest.mark.parametrize(
    ("seed", "expected"),
    [("add_case_attachment.json", "CaseAttachmentAdded"), ("add_case_comment.json", "CaseCommentAdded")],
)
def test_a_fresh_interpreter_parses_a_seed(seed: str, expected: str) -> None:
    code = "import sys, casehooks; print(type(casehooks.parse_event(open(sys.argv[1], 'rb').read())).__name__)"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    completed = subprocess.run(
        [sys.executable, "-c", code, str(FIXTURES / seed)],
        capture_output=True,
        check=True,
        env=env,
        timeout=60,
    )
    assert completed.stdout.decode().strip() == expected
    assert b"Traceback" not in completed.stderr
