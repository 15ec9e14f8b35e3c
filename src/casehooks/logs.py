"""Structured logs (structlog) that carry ids and reasons, never patient data.

Code logs ids, types and reasons only. As a second line of defence, a processor drops any field whose name is
a PHI field of the wire format, so a mistake in a log call cannot leak a name, a date of birth or a file name.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import structlog

PHI_KEYS = frozenset(
    {
        "first_name",
        "last_name",
        "firstname",
        "lastname",
        "email",
        "dob",
        "gender",
        "phone",
        "phone_number",
        "phonenumber",
        "address",
        "address2",
        "city",
        "state",
        "postal_code",
        "postalcode",
        "text",
        "title",
        "file_name",
        "filename",
        "content",
        "body",
        "value_before",
        "value_after",
        "submitter",
        "payload",
    }
)


def drop_phi(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if key.lower().replace("-", "_") in PHI_KEYS:
            event_dict[key] = "[withheld]"
    return event_dict


def level_from_environment() -> str:
    """``CASEHOOKS_LOG_LEVEL``, read without building the settings (which may be what is wrong)."""
    return os.environ.get("CASEHOOKS_LOG_LEVEL", "info")


# structlog (with its console renderer) costs a tenth of a second to import, more than a listing's query: it
# loads at a logger's first use, and takes the configuration asked for before then.
_wanted: tuple[int, bool] | None = None


def configure_logging(level: str = "info", *, json: bool | None = None) -> None:
    """Send structured logs and the standard library's logs to stderr, never stdout (results and ``--json``).

    JSON when stderr is not a terminal, readable lines on one.
    """
    global _wanted
    as_json = (not sys.stderr.isatty()) if json is None else json
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    root = logging.getLogger()
    if not any(getattr(handler, "_casehooks", False) for handler in root.handlers):
        handler = _StderrHandler()
        handler._casehooks = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(max(numeric, logging.WARNING))
    _wanted = (numeric, as_json)
    if "structlog" in sys.modules:
        _configure_structlog()


def _configure_structlog() -> None:
    global _wanted
    if _wanted is None:
        return
    (numeric, as_json), _wanted = _wanted, None
    import structlog

    renderer: Any = structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            drop_phi,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_StderrLoggerFactory(),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    """A structlog logger named ``name``, loaded on its first call."""
    return _Logger(name)


class _Logger:
    __slots__ = ("_bound", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._bound: Any = None

    def __getattr__(self, attribute: str) -> Any:
        if self._bound is None:
            import structlog

            if not structlog.is_configured():  # a test capturing logs has configured its own
                _configure_structlog()
            self._bound = structlog.get_logger(self._name)
        return getattr(self._bound, attribute)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the record, not the stream it was at setup (a test
    runner or an embedding program may swap and close it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


class _StderrLoggerFactory:
    """structlog loggers that print to the current ``sys.stderr`` (see ``_StderrHandler``)."""

    def __call__(self, *_args: Any) -> structlog.PrintLogger:
        import structlog

        return structlog.PrintLogger(file=sys.stderr)
