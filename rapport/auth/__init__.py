"""Sign-up, log-in, log-out, invitations and password resets (global and tenant URLs)."""
from __future__ import annotations

from flask import Flask
from flask_login import LoginManager

from ..db import db
from ..models import User
from .views import bp

login_manager = LoginManager()


@login_manager.user_loader
def _load_user(session_id: str):
    user_id, _, fingerprint = session_id.partition(":")
    try:
        import uuid

        user = db.session.get(User, uuid.UUID(user_id))
    except ValueError:
        return None
    if user is None or user.session_fingerprint != fingerprint:
        return None
    return user


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    app.register_blueprint(bp)
