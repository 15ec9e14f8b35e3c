"""The ASGI entry point that ``casehooks serve`` hands to the server (one call per server process)."""

from __future__ import annotations

import importlib
import os
import sys

from starlette.applications import Starlette

from casehooks.errors import ConfigurationError
from casehooks.heap import settle
from casehooks.logs import configure_logging
from casehooks.receiver.handlers import Receiver
from casehooks.receiver.service import build_service
from casehooks.settings import Settings

APP_ENV = "CASEHOOKS_APP"


def load_receiver(spec: str) -> Receiver:
    """Import ``module:attribute`` and return the ``Receiver`` it names."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigurationError("--app takes module:attribute, e.g. myhooks:app")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"cannot load {spec}") from exc
    if not isinstance(target, Receiver):
        raise ConfigurationError(f"{spec} is not a casehooks.Receiver")
    return target


def create_app() -> Starlette:
    spec = os.environ.get(APP_ENV)
    receiver = load_receiver(spec) if spec else None
    settings = receiver.settings if receiver else Settings()
    configure_logging(settings.log_level)
    app = build_service(settings, receiver).app
    settle()  # what serving keeps for good is built: out of the collector's way from now on
    return app
