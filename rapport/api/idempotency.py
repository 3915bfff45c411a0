"""``Idempotency-Key`` on POST: the first successful answer is stored with the write, in the same
transaction, and replayed to retries; the same key with a different request is refused.

Keys belong to one token (``actor``) in one tenant and are kept for :data:`KEEP_FOR`. Only successful
answers are stored: a refused request wrote nothing, so the client may fix it and reuse the key.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

from typing import Callable

from flask import current_app, g, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..db import db, utcnow
from ..models import IdempotencyKey
from .auth import as_utc
from .blueprint import json_response
from .errors import ApiProblem

HEADER = "Idempotency-Key"
KEY = re.compile(r"^[\x20-\x7e]{1,255}$")  # printable ASCII, as long as the column
KEEP_FOR = dt.timedelta(hours=24)


def key_from_request() -> str | None:
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if not KEY.match(key):
        raise ApiProblem(400, _("Bad Idempotency-Key"),
                         _("An Idempotency-Key is 1 to 255 printable ASCII characters."),
                         errors={HEADER: [_("Use 1 to 255 printable ASCII characters.")]})
    return key


def fingerprint(body) -> str:
    """What makes two requests "the same": method, path and the JSON body (key order ignored)."""
    canonical = json.dumps([request.method, request.path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def find(key: str) -> IdempotencyKey | None:
    row = db.session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.actor == str(g.api_token.id), IdempotencyKey.key == key)
    )
    if row is not None and utcnow() - as_utc(row.created_at) > KEEP_FOR:
        db.session.delete(row)  # expired: this request starts afresh under the same key
        db.session.flush()
        return None
    return row


def replay(row: IdempotencyKey, request_hash: str):
    if row.request_hash != request_hash:
        raise ApiProblem(422, _("Idempotency-Key reused"),
                         _("This Idempotency-Key was already used for a different request; use a new key."),
                         errors={HEADER: [_("Already used with a different request.")]})
    response = current_app.response_class(json.dumps(row.response), status=row.status_code,
                                          mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def remember(key: str, request_hash: str, status: int, body: dict) -> None:
    """Store the answer in the current transaction, so it commits (or not) with the write."""
    db.session.add(IdempotencyKey(actor=str(g.api_token.id), key=key, request_hash=request_hash,
                                  status_code=status, response=body))


def create_once(data, create: Callable[[], tuple[dict, object]], location: Callable[[object], str]):
    """A POST that creates, answered once per ``Idempotency-Key``: ``create()`` writes (uncommitted)
    and returns ``(body, id)``; the answer is stored with the write and replayed to retries, also to a
    retry that raced the first request. ``location(id)`` is the new resource's URL."""
    key = key_from_request()
    request_hash = fingerprint(data)
    if key is not None and (stored := find(key)) is not None:
        return _replayed(stored, request_hash, location)
    body, new_id = create()
    if key is not None:
        remember(key, request_hash, 201, body)
    try:
        db.session.commit()
    except IntegrityError:
        # Another request with the same key won the race: answer as its retry would be answered.
        db.session.rollback()
        if key is not None and (stored := find(key)) is not None:
            return _replayed(stored, request_hash, location)
        raise  # a real conflict: answered 409 by the blueprint's handler
    return json_response(body, 201, {"Location": location(new_id)})


def _replayed(stored: IdempotencyKey, request_hash: str, location: Callable[[object], str]):
    response = replay(stored, request_hash)
    if stored.status_code == 201 and "id" in stored.response:
        response.headers["Location"] = location(stored.response["id"])
    return response
