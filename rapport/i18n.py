"""Flask-Babel: a member's language from their profile, else the browser's Accept-Language."""
from __future__ import annotations

from flask import Flask, current_app, has_request_context, request
from flask_babel import Babel
from flask_login import current_user

babel = Babel()


def select_locale() -> str | None:
    if not has_request_context():
        return None  # CLI and background jobs: the default locale
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
