"""Times as the store keeps them: naive, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def naive_utc(when: datetime) -> datetime:
    """``when`` as the naive UTC time the store keeps: an aware time converted to UTC, a
    naive one taken as UTC already."""
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


def utcnow() -> datetime:
    """Now, as the store keeps timestamps: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)
