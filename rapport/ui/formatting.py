"""How the staff pages write times: in the member's language, always in UTC (and said so)."""
from __future__ import annotations

import datetime as dt

from flask_babel import format_datetime


def aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive values; every stored time is UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def when(value) -> str:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return format_datetime(aware(value), "yyyy-MM-dd HH:mm") + " UTC" if value else ""


def iso(value) -> str:
    return aware(value).isoformat() if value else ""
