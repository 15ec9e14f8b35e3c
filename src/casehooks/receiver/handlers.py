"""``Receiver``: the user's handlers, registered by event type, and the settings they run with."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from casehooks.events import Event
from casehooks.settings import Settings

Handler = Callable[[Any], Awaitable[None] | None]
H = TypeVar("H", bound=Handler)

ANY_EVENT = "*"


def handler_name(handler: Handler) -> str:
    return f"{getattr(handler, '__module__', '?')}.{getattr(handler, '__qualname__', repr(handler))}"


class Receiver:
    """Handlers for webhook events, run from the durable queue after each event is stored.

    ::

        app = Receiver.from_env()

        @app.on("ADD_CASE_COMMENT")
        async def notify(event: CaseCommentAdded) -> None: ...

    A handler may be ``async`` or plain (plain ones run in a thread). It must be idempotent: a failed job is
    retried, and handlers that already succeeded for it are not run again.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self._handlers: dict[str, list[Handler]] = {}

    @classmethod
    def from_env(cls) -> Receiver:
        """A receiver configured from ``CASEHOOKS_*`` environment variables."""
        return cls(Settings())

    def on(self, *event_types: str) -> Callable[[H], H]:
        """Register a handler for one or more event types (``"*"`` for every event)."""
        types = event_types or (ANY_EVENT,)

        def register(handler: H) -> H:
            for event_type in types:
                self._handlers.setdefault(event_type, []).append(handler)
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

    @property
    def handler_count(self) -> int:
        return sum(len(handlers) for handlers in self._handlers.values())


async def run_handler(handler: Handler, event: Event) -> None:
    """Call a handler, awaiting it if it is async and running it in a thread if it is not."""
    if inspect.iscoroutinefunction(handler):
        await handler(event)
        return
    import anyio.to_thread

    result = await anyio.to_thread.run_sync(handler, event)
    if inspect.isawaitable(result):
        await result
