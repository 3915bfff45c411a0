"""A request's database session is closed once its answer has been sent (when the server closes the
body), so the client does not wait for the ROLLBACK that ends a read-only transaction; a session that
an app context around the request already held is left to that context."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from werkzeug.test import EnvironBuilder

from rapport.db import db


def call(app, path: str):
    """The app called as a WSGI server calls it: answer first, ``close()`` after."""
    answered = []
    environ = EnvironBuilder(path=path).get_environ()
    body = app(environ, lambda status, headers, exc_info=None: answered.append(status))
    content = b"".join(body)
    return answered[0], content, body


@pytest.fixture
def closed(monkeypatch) -> list:
    """The sessions closed during the test (the test's app holds one connection for all of them, so
    the pool cannot tell; the session's own close can)."""
    found = []
    original = db.factory.class_.close

    def close(session):
        found.append(session)
        return original(session)

    monkeypatch.setattr(db.factory.class_, "close", close)
    return found


def test_the_session_ends_when_the_server_closes_the_answer(app, closed):
    status, content, body = call(app, "/readyz")  # reads the database
    assert status.startswith("200") and b'"database":"ok"' in content.replace(b" ", b"")
    # The answer is complete; the session is still open, in its transaction.
    assert db.session.registry.has()
    session = db.session()
    assert session.in_transaction() and closed == []
    body.close()
    assert closed == [session] and not session.in_transaction() and not db.session.registry.has()


def test_a_failing_request_closes_its_session_at_once(app, closed, monkeypatch):

    def explode():
        db.session.execute(text("SELECT 1"))
        raise RuntimeError("boom")

    monkeypatch.setitem(app.view_functions, "readyz", explode)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", True)
    with pytest.raises(RuntimeError):
        call(app, "/readyz")
    assert len(closed) == 1 and not db.session.registry.has()


def test_a_session_held_around_the_request_is_left_to_its_context(app):
    outer = db.session()
    outer.execute(text("SELECT 1"))  # a test or script working around requests holds a session
    _status, _content, body = call(app, "/readyz")
    body.close()
    assert db.session() is outer and outer.in_transaction()


def test_the_test_client_closes_each_answer(client, closed):
    assert client.get("/readyz").status_code == 200
    assert len(closed) == 1 and not db.session.registry.has()


def test_the_session_is_closed_even_when_the_answer_fails_to_close(app, closed, monkeypatch):
    class Body:
        def __iter__(self):
            db.session.execute(text("SELECT 1"))  # a streamed answer reading as it goes
            yield b"part"

        def close(self):
            raise OSError("the client went away mid-answer")

    from flask import Response

    monkeypatch.setitem(app.view_functions, "readyz", lambda: Response(Body()))
    _status, content, body = call(app, "/readyz")
    assert content == b"part" and db.session.registry.has()
    with pytest.raises(OSError):
        body.close()
    assert len(closed) == 1 and not db.session.registry.has()
