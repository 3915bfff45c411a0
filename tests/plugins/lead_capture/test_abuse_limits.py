"""Rate limits per client IP and per form (429: a problem for JSON, a page for people) and the
submission body limit (413). Storage here is the in-memory one; test_rate_limit_redis.py shows
two gunicorn workers sharing the counters on Redis."""
from __future__ import annotations

import io

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from tests.plugins.lead_capture.public_helpers import ALLOWED, PATH, submissions

PER_IP, PER_FORM, MAX_BODY = 3, 5, 2048
PERSON = {"name": "Ann Lee", "email": "ann@example.com"}


@pytest.fixture
def app_config():
    return {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "rapport-memory://",
        "LEAD_FORM_RATE_LIMIT_IP": f"{PER_IP} per minute",
        "LEAD_FORM_RATE_LIMIT_FORM": f"{PER_FORM} per minute",
        "LEAD_FORM_MAX_BODY_BYTES": MAX_BODY,
    }


def from_ip(n: int) -> dict:
    return {"REMOTE_ADDR": f"198.51.100.{n}"}


def test_per_ip_limit_answers_429_a_page_for_people_and_a_problem_for_json(client, acme, make_form):
    make_form(allowed_origins=[ALLOWED])
    statuses = [client.post(PATH, json={**PERSON, "email": f"p{i}@example.com"}, environ_base=from_ip(1)).status_code
                for i in range(PER_IP)]
    assert statuses == [201] * PER_IP
    refused = client.post(PATH, json=PERSON, environ_base=from_ip(1), headers={"Origin": ALLOWED})
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json" and refused.get_json()["status"] == 429
    assert "Retry-After" in refused.headers
    # The embed script on the allowed site can read the refusal, to tell the person.
    assert refused.headers["Access-Control-Allow-Origin"] == ALLOWED
    page = client.post(PATH, data=PERSON, environ_base=from_ip(1))
    assert page.status_code == 429 and page.mimetype == "text/html"
    assert "Too many requests" in page.get_data(as_text=True)
    assert client.post(PATH, json={**PERSON, "email": "later@example.com"}, environ_base=from_ip(2)).status_code == 201
    assert len(submissions(acme)) == PER_IP + 1


def test_per_form_limit_counts_every_ip_and_spares_other_forms(client, acme, make_form):
    make_form()
    make_form(slug="other-form")
    statuses = [client.post(PATH, json={**PERSON, "email": f"p{i}@example.com"}, environ_base=from_ip(10 + i)).status_code
                for i in range(PER_FORM + 1)]
    assert statuses == [201] * PER_FORM + [429]
    assert client.post("/t/acme/f/other-form", json=PERSON, environ_base=from_ip(99)).status_code == 201


def test_reading_the_form_is_not_limited(client, make_form):
    make_form()
    assert {client.get(PATH, environ_base=from_ip(1)).status_code for _ in range(PER_IP + 2)} == {200}


def test_oversized_submission_is_413(client, acme, make_form):
    make_form()
    big = "x" * (MAX_BODY + 1)
    page = client.post(PATH, data={**PERSON, "message": big})
    assert page.status_code == 413 and page.mimetype == "text/html"
    problem = client.post(PATH, json={**PERSON, "message": big})
    assert problem.status_code == 413 and problem.mimetype == "application/problem+json"
    assert submissions(acme) == []
    fits = client.post(PATH, json={**PERSON, "message": "x" * (MAX_BODY // 2)})
    assert fits.status_code == 201


@pytest.mark.parametrize("size, status", [(MAX_BODY * 2, "413"), (MAX_BODY // 2, "201")])
def test_body_without_a_length_is_capped_too(app, acme, make_form, size, status):
    make_form()
    body = b'{"name": "Ann", "email": "ann@example.com", "message": "' + b"x" * size + b'"}'
    environ = EnvironBuilder(path=PATH, method="POST", input_stream=io.BytesIO(body),
                             content_type="application/json").get_environ()
    # As with chunked transfer encoding: no Content-Length, the server marks the input as terminated.
    # (The test client would add the length back, so the app is called directly.)
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    _body, answer, _headers = run_wsgi_app(app, environ, buffered=True)
    assert answer.split()[0] == status
    assert len(submissions(acme)) == (1 if status == "201" else 0)
