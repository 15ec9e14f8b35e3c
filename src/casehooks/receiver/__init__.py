"""The receiving side: the webhook endpoint, the durable intake and the handler worker."""

from casehooks.receiver.handlers import Receiver
from casehooks.receiver.service import Service, build_service

__all__ = ["Receiver", "Service", "build_service"]
