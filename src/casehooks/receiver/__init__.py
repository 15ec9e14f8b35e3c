"""The receiving side: the webhook endpoint, the durable intake and the handler worker."""

from casehooks.receiver.handlers import Delivery, Receiver
from casehooks.receiver.service import Service, build_service

__all__ = ["Delivery", "Receiver", "Service", "build_service"]
