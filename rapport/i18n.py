"""Flask-Babel: a member's language from their profile, else the browser's Accept-Language.

Also says again, in the member's language, what other libraries write in English: marshmallow's
built-in validation messages, and HTTP error pages. See docs/i18n.md.
"""
from __future__ import annotations

import re

from flask import Flask, current_app, has_request_context, request
from flask_babel import Babel, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

babel = Babel()


def N_(message: str) -> str:
    """Marks a message for the catalogue (pybabel extracts ``N_``) without translating it here."""
    return message


def select_locale() -> str | None:
    if not has_request_context():
        return None  # CLI and background jobs: the default locale
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return browser_locale(request.accept_languages, languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def browser_locale(accepted, languages: list[str]) -> str | None:
    """The best of ``languages`` for an Accept-Language header, or None.

    werkzeug matches whole tags and bare languages (``zh-CN``, ``zh``) but not longer tags such as
    ``zh-Hans-CN`` or ``zh-TW``: those fall back to the first catalogue of the same language.
    """
    found = accepted.best_match(languages)
    if found:
        return found
    by_language: dict[str, str] = {}
    for code in languages:
        by_language.setdefault(code.split("_")[0].lower(), code)
    for tag, quality in accepted:  # best first
        found = by_language.get(re.split(r"[-_]", tag)[0].lower())
        if found and quality > 0:
            return found
    return None


# --- messages written in English by others ------------------------------------------------------
# marshmallow's built-in messages, as its templates (``{max}`` etc. are filled in by marshmallow; a
# translation keeps them). Range and date messages are listed as marshmallow renders them.
MARSHMALLOW_MESSAGES = (
    N_("Missing data for required field."),
    N_("Field may not be null."),
    N_("Invalid value."),
    N_("Invalid input."),
    N_("Invalid input type."),
    N_("Invalid type."),
    N_("Unknown field."),
    N_("Not a valid string."),
    N_("Not a valid utf-8 string."),
    N_("Not a valid boolean."),
    N_("Not a valid number."),
    N_("Not a valid integer."),
    N_("Number too large."),
    N_("Special numeric values (nan or infinity) are not permitted."),
    N_("Not a valid email address."),
    N_("Not a valid URL."),
    N_("Not a valid UUID."),
    N_("Not a valid date."),
    N_("Not a valid time."),
    N_("Not a valid datetime."),
    N_("Not a valid aware datetime."),
    N_("Not a valid naive datetime."),
    N_("Not a valid period of time."),
    N_("Not a valid list."),
    N_("Not a valid tuple."),
    N_("Not a valid mapping type."),
    N_("Not a valid IP address."),
    N_("String does not match expected pattern."),
    N_("Must be one of: {choices}."),
    N_("Must be equal to {other}."),
    N_("One or more of the choices you made was not in: {choices}."),
    N_("One or more of the choices you made was in: {values}."),
    N_("Length must be between {min} and {max}."),
    N_("Length must be {equal}."),
    N_("Longer than maximum length {max}."),
    N_("Shorter than minimum length {min}."),
    N_("Must be greater than or equal to {min} and less than or equal to {max}."),
    N_("Must be greater than or equal to {min} and less than {max}."),
    N_("Must be greater than {min} and less than or equal to {max}."),
    N_("Must be greater than {min} and less than {max}."),
    N_("Must be greater than or equal to {min}."),
    N_("Must be greater than {min}."),
    N_("Must be less than or equal to {max}."),
    N_("Must be less than {max}."),
)
# rapport.listing's messages (it does not call gettext yet; once it does, these go).
LISTING_MESSAGES = (
    N_("Use an ISO 8601 date or date-time, e.g. 2026-01-31."),
    N_("Invalid cursor: use next_cursor from the previous page."),
    N_("Unknown parameter."),
    N_("Use a member id, 'me' or 'none'."),
    N_("Not a valid id."),
    N_("Sort by one of: {choices} (prefix - for descending)."),
    N_("Must be a whole number."),
    N_("Must be between 1 and {max}."),
)
# Flask-WTF's CSRF refusals, shown on the 400 page.
CSRF_MESSAGES = (
    N_("The CSRF token is missing."),
    N_("The CSRF session token is missing."),
    N_("The CSRF token has expired."),
    N_("The CSRF token is invalid."),
    N_("The CSRF tokens do not match."),
    N_("The referrer header is missing."),
    N_("The referrer does not match the host."),
)
FOREIGN_MESSAGES = MARSHMALLOW_MESSAGES + LISTING_MESSAGES + CSRF_MESSAGES
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _pattern(template: str) -> re.Pattern:
    parts = _PLACEHOLDER.split(template)  # text, name, text, name, ..., text
    return re.compile("".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)
    ))


_EXACT = frozenset(m for m in FOREIGN_MESSAGES if "{" not in m)
# Longer templates first, so "greater than or equal to {min}" wins over "greater than {min}".
_TEMPLATES = tuple((_pattern(m), m) for m in sorted((m for m in FOREIGN_MESSAGES if "{" in m), key=len, reverse=True))


def localize(message):
    """``message`` in the current language when it is one of the English messages above; anything
    else (our own messages, already translated, or a plugin's text) is returned unchanged."""
    if not isinstance(message, str):
        return message
    if message in _EXACT:
        return gettext(message)
    for pattern, template in _TEMPLATES:
        match = pattern.fullmatch(message)
        if match:
            try:
                return gettext(template).format(**match.groupdict())
            except (KeyError, IndexError, ValueError):  # a translation that lost a placeholder
                return message
    return message


def localize_messages(messages):
    """marshmallow-style messages (a string, a list, or a dict of them, nested) with ``localize``."""
    if isinstance(messages, dict):
        return {key: localize_messages(value) for key, value in messages.items()}
    if isinstance(messages, (list, tuple)):
        return [localize_messages(value) for value in messages]
    return localize(messages)


# werkzeug's error names and descriptions are English: the pages say them in the member's language.
HTTP_ERRORS = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
    403: (_l("Forbidden"), _l("You do not have permission to do this.")),
    404: (_l("Not found"), _l("There is nothing at this address. Check the link, or start again from the home page.")),
    405: (_l("Method not allowed"), _l("This address does not accept this kind of request.")),
    413: (_l("Too large"), _l("What was sent is larger than this server accepts.")),
    429: (_l("Too many requests"), _l("Too many attempts in a short time. Wait a minute and try again.")),
}


def http_error_text(exc) -> tuple[str, str]:
    """(title, description) of an HTTP error page. A description given on purpose, e.g.
    ``abort(404, "...")``, is kept; werkzeug's defaults and rate-limit texts are replaced."""
    if exc.code not in HTTP_ERRORS:
        return exc.name, exc.description
    title, description = HTTP_ERRORS[exc.code]
    own = exc.description and exc.description != type(exc).description and exc.code != 429
    return str(title), localize(exc.description) if own else str(description)


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["localize"] = localize_messages
    app.add_template_global(http_error_text)
