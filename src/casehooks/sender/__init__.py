"""The platform's side of the wire: realistic fake events, a load generator, and a small case platform."""

from casehooks.sender.fake import EVENT_TYPES, fake_event

__all__ = ["EVENT_TYPES", "fake_event"]
