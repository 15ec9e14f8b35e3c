"""How long sessions and tokens live and when sign-in is throttled: one frozen object built from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from casehooks.settings import Settings


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """The console's sign-in limits; the defaults are the settings' defaults."""

    session_ttl: timedelta = timedelta(hours=8)
    session_idle: timedelta = timedelta(minutes=30)
    account_failures: int = 10  # wrong passwords in a row that lock an account
    address_failures: int = 50  # wrong passwords from one client address within ``lockout``
    lockout: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings: Settings) -> AccessPolicy:
        return cls(
            session_ttl=timedelta(minutes=settings.console_session_minutes),
            session_idle=timedelta(minutes=settings.console_idle_minutes),
            account_failures=settings.console_lockout_failures,
            address_failures=settings.console_address_failures,
            lockout=timedelta(minutes=settings.console_lockout_minutes),
        )
