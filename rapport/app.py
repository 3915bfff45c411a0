"""The application factory."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, jsonify, render_template
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, PendingRollbackError
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from . import config as config_module
from . import i18n, pipeline, security, tasks
from .db import db


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, without building the signing serializer for a request that
    sends no session cookie (API calls, public forms): it found nothing to read anyway."""

    def open_session(self, app, request):
        if not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


class RapportFlask(Flask):
    """Flask, deciding once per function whether a view or hook is a coroutine function: Flask asks
    ``inspect`` again for every hook of every request (19 times per API call, 2% of its CPU)."""

    session_interface = CookieSessions()
    _SYNC_KEPT = 2_000  # callbacks made per request (after_this_request) must not pile up

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._sync_funcs: dict = {}

    def ensure_sync(self, func):
        cache = self._sync_funcs
        try:
            return cache[func]
        except KeyError:
            if len(cache) >= self._SYNC_KEPT:
                cache.clear()
            made = cache[func] = super().ensure_sync(func)
            return made
        except TypeError:  # not hashable
            return super().ensure_sync(func)


def create_app(test_config: dict | None = None) -> Flask:
    app = RapportFlask(__name__, instance_path=_instance_path(test_config))
    app.config.update(config_module.DEFAULTS)
    app.config.update(config_module.from_environment(Path(app.instance_path)))
    if test_config:
        app.config.update(test_config)

    app.test_client_class = ClosingTestClient
    db.init_app(app)
    tasks.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    pipeline.init_app(app)

    from .auth import init_app as init_auth

    init_auth(app)

    from .ui import bp as ui_bp
    from .admin import bp as admin_bp
    from .transfer import bp as transfer_bp

    app.register_blueprint(ui_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(transfer_bp)

    from .api import init_app as init_api

    init_api(app)

    from .plugin_host import build_host

    host = build_host(app)
    _register_template_helpers(app, host)
    _register_health(app)
    _register_errors(app)

    from .cli import register_app_commands

    register_app_commands(app)
    return app


class ClosingTestClient(FlaskClient):
    """``app.test_client()``: each answer is read whole and closed at once, as a WSGI server does
    (the request's database session is closed when its answer is, see ``rapport.db``)."""

    def open(self, *args, buffered: bool = True, **kwargs):
        return super().open(*args, buffered=buffered, **kwargs)


def _instance_path(test_config: dict | None) -> str:
    import os

    if test_config and test_config.get("INSTANCE_PATH"):
        return str(test_config["INSTANCE_PATH"])
    return os.environ.get("RAPPORT_INSTANCE_PATH") or str(Path.cwd() / "instance")


def _register_template_helpers(app: Flask, host) -> None:
    from flask import g
    from flask_babel import get_locale

    @app.context_processor
    def _helpers():
        def nav_menu(section: str):
            if g.get("tenant") is None or g.get("member") is None:
                return []
            return host.menu(g.tenant, g.member, section)

        def current_locale_tag():
            return str(get_locale() or "en").replace("_", "-")

        return {"nav_menu": nav_menu, "current_locale_tag": current_locale_tag}


def _register_health(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz():
        try:
            db.session.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any database failure means not ready
            db.session.rollback()
            return jsonify(status="unavailable", database=type(exc).__name__), 503
        return jsonify(status="ok", database="ok")


def _register_errors(app: Flask) -> None:
    from flask import g

    from .pipeline import is_api_request
    from .problems import from_http_exception

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if is_api_request():
            return from_http_exception(exc)
        if exc.code in (400, 403, 404, 405, 413, 429):
            if g.get("member") is None:
                # Only members learn a tenant's name: to anyone else B's 404 looks like no tenant at all.
                g.pop("tenant", None)
            return render_template("error.html", error=exc), exc.code
        return exc

    @app.errorhandler(OperationalError)
    @app.errorhandler(PendingRollbackError)  # a later use of a session whose transaction the outage broke
    def _database_unavailable(exc):
        # The database is down or restarting: say so (503, retry) rather than a bare 500. The pool
        # drops dead connections by itself, so the next request after recovery succeeds. No rollback
        # here: it would expire what the request loaded, and after-request code reading it would hit
        # the dead database again; the session is closed at teardown anyway.
        app.logger.warning("database unavailable: %s", type(getattr(exc, "orig", None) or exc).__name__)
        return _http_error(ServiceUnavailable(retry_after=2))
