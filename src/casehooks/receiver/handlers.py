"""``Receiver``: the user's handlers, registered by event type, and the settings they run with."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from casehooks.events import Event
from casehooks.settings import Settings

Handler = Callable[..., Awaitable[None] | None]
H = TypeVar("H", bound=Handler)

ANY_EVENT = "*"


@dataclass(frozen=True, slots=True)
class Delivery:
    """How this run of a handler came about; a handler that takes a second argument receives it.

    ``late`` is set for a handler in case order when a later event of the same case (by the platform's activity
    time) was already handled: the handler decides what an out-of-order event means for the systems it writes to.
    """

    job_id: int
    event_id: str
    attempt: int
    ordered: bool = False
    late: bool = False


def handler_name(handler: Handler) -> str:
    return f"{getattr(handler, '__module__', '?')}.{getattr(handler, '__qualname__', repr(handler))}"


class Receiver:
    """Handlers for webhook events, run from the durable queue after each event is stored.

    ::

        app = Receiver.from_env()

        @app.on("ADD_CASE_COMMENT")
        async def notify(event: CaseCommentAdded) -> None: ...

    A handler may be ``async`` or plain (plain ones run in a thread). It must be idempotent: a failed job is
    retried, and handlers that already succeeded for it are not run again. A handler registered with
    ``ordered=True`` (or every handler, with ``Receiver(ordered=True)``) runs the events of one case one at a
    time, in the order they happened; see docs/receiver.md.
    """

    def __init__(self, settings: Settings | None = None, *, ordered: bool = False) -> None:
        self.settings = settings or Settings()
        self._handlers: dict[str, list[Handler]] = {}
        self._ordered_by_default = ordered
        self._ordered: set[str] = set()

    @classmethod
    def from_env(cls) -> Receiver:
        """A receiver configured from ``CASEHOOKS_*`` environment variables."""
        return cls(Settings())

    def on(self, *event_types: str, ordered: bool | None = None) -> Callable[[H], H]:
        """Register a handler for one or more event types (``"*"`` for every event); ``ordered`` runs it in case
        order (the receiver's default when not given)."""
        types = event_types or (ANY_EVENT,)
        in_order = self._ordered_by_default if ordered is None else ordered

        def register(handler: H) -> H:
            for event_type in types:
                self._handlers.setdefault(event_type, []).append(handler)
            if in_order:
                self._ordered.add(handler_name(handler))
            return handler

        return register

    def handlers_for(self, event_type: str) -> list[Handler]:
        return [*self._handlers.get(event_type, []), *self._handlers.get(ANY_EVENT, [])]

    def registrations(self) -> dict[str, list[str]]:
        """Each handler's name and the event types it takes (``*`` for every type), as the registry keeps them."""
        names: dict[str, set[str]] = {}
        for event_type, handlers in self._handlers.items():
            for handler in handlers:
                names.setdefault(handler_name(handler), set()).add(event_type)
        return {name: sorted(types) for name, types in names.items()}

    def ordered_names(self) -> frozenset[str]:
        """The names of the handlers that run in case order."""
        return frozenset(self._ordered)

    @property
    def handler_count(self) -> int:
        return sum(len(handlers) for handlers in self._handlers.values())


def takes_delivery(handler: Handler) -> bool:
    """Whether the handler takes a second argument, the :class:`Delivery`."""
    try:
        parameters = list(inspect.signature(handler).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(parameter.kind == inspect.Parameter.VAR_POSITIONAL for parameter in parameters):
        return True
    return sum(parameter.kind in positional for parameter in parameters) >= 2


async def run_handler(handler: Handler, event: Event, delivery: Delivery | None = None) -> None:
    """Call a handler, awaiting it if it is async and running it in a thread if it is not; the delivery is
    passed to handlers that take a second argument."""
    arguments: tuple[Any, ...] = (event, delivery) if delivery is not None and takes_delivery(handler) else (event,)
    if inspect.iscoroutinefunction(handler):
        await handler(*arguments)
        return
    import anyio.to_thread

    result = await anyio.to_thread.run_sync(handler, *arguments)
    if inspect.isawaitable(result):
        await result
