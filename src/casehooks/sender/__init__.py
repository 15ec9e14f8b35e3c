"""The platform's side of the wire: realistic fake events, a load generator, and a small case platform."""

from casehooks.sender.fake import EVENT_TYPES, fake_event
from casehooks.sender.stats import Outcome, TriggerSummary
from casehooks.sender.trigger import TriggerOptions, run_trigger

__all__ = ["EVENT_TYPES", "Outcome", "TriggerOptions", "TriggerSummary", "fake_event", "run_trigger"]
