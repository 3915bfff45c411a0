"""Addresses of record pages, and where a post may send the browser next."""
from __future__ import annotations

from flask import request, url_for

from .record_types import RECORD_TYPES, REFERENCE_TYPES


def show_url(record_type: str, record_id) -> str:
    rtype = RECORD_TYPES[record_type]
    return url_for(rtype.endpoint("show"), **{rtype.id_arg: record_id})


def record_url(record) -> str:
    return show_url(record.record_type, record.id)


def reference_url(column: str, record_id) -> str:
    """The page of what a reference column (account_id, contact_id, lead_id) points at."""
    return show_url(REFERENCE_TYPES[column], record_id)


def safe_next(default: str) -> str:
    """Where to go after a post made from another page: only a page of this tenant."""
    target = request.values.get("next", "")
    if target.startswith(url_for("ui.dashboard")) and "//" not in target and "\\" not in target:
        return target
    return default
