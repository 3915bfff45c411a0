"""Keeping bots out of the public forms without bothering people: a honeypot, a minimum time to
fill, rate limits per IP and per form, and a body size limit.

Suspected spam is never dropped: ``spam_reason`` names why a *valid* submission is stored as
"quarantined" (the admin reviews it), and the visitor sees the same thank-you as anyone (a bot learns
nothing). Invalid submissions are shown back to the person and not stored at all.

The fill token
--------------
Every rendering of a form (the hosted page, or ``GET`` with ``Accept: application/json`` for the
embed script and integrations) carries a token signed with the app's ``SECRET_KEY`` (itsdangerous,
salted for this purpose) holding the form's id, the render time and a random nonce. On submit it
proves that the form was fetched first and how long ago; its nonce, with a digest of the payload,
is the submission's dedupe key, so a double click or a retry of the same rendering is stored once,
while a bot replaying one token with other payloads is still kept. The token plays the
anti-forgery role that a CSRF token plays for staff pages (the public endpoints have no session).

- no token, or a forged one, on the HTML path: quarantined ("no token");
- no token from a JSON client: quarantined too, unless the form's ``min_fill_seconds`` is 0. An
  integration posting JSON from a server first fetches a token with ``GET`` and
  ``Accept: application/json`` (the embed script does the same), or the form's owner sets the
  minimum fill time to 0 for it;
- submitted sooner than ``min_fill_seconds`` (capped at 5, so fast humans pass) after rendering:
  quarantined ("too fast").
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from flask import abort, current_app, g, request
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeSerializer

from flask_limiter.util import get_remote_address

from rapport.security import check_limit

HONEYPOT_FIELD = "website"  # an innocent name that form-filling bots are keen to fill
TOKEN_FIELD = "fill_token"
TOKEN_SALT = "rapport.lead_capture.fill-token"
MAX_MIN_FILL_SECONDS = 5

# Stored in Submission.spam_reason; the quarantine page shows the labels.
HONEYPOT, TOO_FAST, NO_TOKEN = "honeypot", "too fast", "no token"
REASON_LABELS = {
    HONEYPOT: _l("Filled in the hidden field that only bots see"),
    TOO_FAST: _l("Sent faster than a person can fill in the form"),
    NO_TOKEN: _l("Sent without the token of a rendered form"),
}

DEFAULT_RATE_LIMIT_IP = "20 per minute"
DEFAULT_RATE_LIMIT_FORM = "600 per minute"
DEFAULT_MAX_BODY_BYTES = 64 * 1024


# --- the fill token -------------------------------------------------------------------------------
@dataclass(frozen=True)
class FillToken:
    nonce: str
    rendered_at: float


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def issue_token(form, rendered_at: float | None = None) -> str:
    """A fresh token for one rendering of ``form``."""
    rendered_at = time.time() if rendered_at is None else rendered_at
    return _serializer().dumps({"f": str(form.id), "n": secrets.token_urlsafe(16), "t": rendered_at})


def read_token(raw, form) -> FillToken | None:
    """The token's content when it is genuine and was issued for ``form``, else None."""
    if not isinstance(raw, str) or not raw or len(raw) > 500:
        return None
    try:
        payload = _serializer().loads(raw)
    except BadData:
        return None
    if not isinstance(payload, dict) or payload.get("f") != str(form.id):
        return None
    nonce, rendered_at = payload.get("n"), payload.get("t")
    if not isinstance(nonce, str) or not isinstance(rendered_at, (int, float)):
        return None
    return FillToken(nonce, float(rendered_at))


def min_fill_seconds(form) -> int:
    return max(0, min(form.min_fill_seconds or 0, MAX_MIN_FILL_SECONDS))


def spam_reason(form, token: FillToken | None, honeypot: object, json_client: bool, now: float | None = None) -> str | None:
    """Why a valid submission looks like a bot's, or None when it looks like a person's."""
    if honeypot not in (None, "", False):
        return HONEYPOT
    minimum = min_fill_seconds(form)
    if token is None:
        return None if json_client and minimum == 0 else NO_TOKEN
    now = time.time() if now is None else now
    if now - token.rendered_at < minimum:
        return TOO_FAST
    return None


# --- rate limits (Flask-Limiter: memory per worker, Redis shared when RAPPORT_REDIS_URL is set) ----
def _ip_limit() -> str:
    return current_app.config.get("LEAD_FORM_RATE_LIMIT_IP", DEFAULT_RATE_LIMIT_IP)


def _form_limit() -> str:
    return current_app.config.get("LEAD_FORM_RATE_LIMIT_FORM", DEFAULT_RATE_LIMIT_FORM)


def _form_key() -> str:
    # The URL names the form; a slug that does not exist still counts (a flood of 404s is a flood).
    return f"{g.get('tenant_slug', '')}/{(request.view_args or {}).get('form_slug', '')}"


def check_rate_limits() -> None:
    """A submission (POST) counts against its client IP across every form and against its form
    across every IP; 429 past either. Checked before the form is looked up: a flood costs no query."""
    check_limit(_ip_limit(), "lead_capture.ip", get_remote_address())
    check_limit(_form_limit(), "lead_capture.form", _form_key())


# --- body limit -----------------------------------------------------------------------------------
def max_body_bytes() -> int:
    return int(current_app.config.get("LEAD_FORM_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))


def limit_body() -> None:
    """413 for a submission larger than a form needs, before anything reads it. The app-wide limit
    (MAX_CONTENT_LENGTH) is sized for CSV imports; a public endpoint gets a much smaller one."""
    limit = max_body_bytes()
    if request.content_length is not None and request.content_length > limit:
        abort(413)
    current = request.max_content_length
    request.max_content_length = limit if current is None else min(current, limit)  # never raised
    if request.content_length is None:
        _read_unannounced_body()


def _read_unannounced_body() -> None:
    """A body sent without its length (chunked) is read now, up to the limit (werkzeug would cut it
    there silently): 413 when more follows. The parsers then use the cached bytes."""
    request.get_data(cache=True)
    stream = request.stream
    if getattr(stream, "is_exhausted", False):
        stream.read(1)  # werkzeug's LimitedStream raises RequestEntityTooLarge past a maximum
