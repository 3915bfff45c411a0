"""Spam checks on valid submissions: honeypot, minimum time to fill, missing or forged fill token.
Suspected spam is stored in the quarantine (never dropped) and its sender thanked like anyone."""
from __future__ import annotations

import time

import pytest

from plugins.lead_capture import abuse
from tests.plugins.lead_capture.public_helpers import PATH, fill_and_send, fresh_token, leads, page_of, submissions

PERSON = {"name": "Ann Lee", "email": "ann@example.com"}


def thanks_text(response) -> str:
    return response.get_data(as_text=True)


def test_honeypot_filled_is_quarantined_and_thanked_the_same(client, acme, make_form):
    make_form()
    genuine = fill_and_send(client, PERSON)
    bot = fill_and_send(client, {**PERSON, "email": "bot@example.com", "website": "http://spam.example"})
    assert bot.status_code == genuine.status_code == 200
    assert thanks_text(bot) == thanks_text(genuine)  # a bot learns nothing
    ann, spam = submissions(acme)
    assert (ann.status, ann.spam_reason) == ("processed", None)
    assert (spam.status, spam.spam_reason) == ("quarantined", "honeypot")
    assert spam.data == {"name": "Ann Lee", "email": "bot@example.com"}  # kept as sent, for review
    assert [lead.email for lead in leads(acme)] == ["ann@example.com"]


def test_honeypot_in_json_is_quarantined_too(client, acme, make_form):
    make_form()
    response = client.post(PATH, json={**PERSON, "fill_token": fresh_token(client), "website": "x"})
    assert response.status_code == 201 and response.get_json()["status"] == "received"
    [row] = submissions(acme)
    assert row.spam_reason == "honeypot" and leads(acme) == []


@pytest.mark.parametrize("seconds_ago, status, reason", [(-30, "quarantined", "too fast"), (60, "processed", None)])
def test_minimum_time_to_fill(client, acme, make_form, seconds_ago, status, reason):
    # Render times are set in the token, not waited for: the checks read the signed render time.
    form = make_form(min_fill_seconds=5)
    token = abuse.issue_token(form, rendered_at=time.time() - seconds_ago)
    response = client.post(PATH, data={**PERSON, "fill_token": token})
    assert response.status_code == 200
    [row] = submissions(acme)
    assert (row.status, row.spam_reason) == (status, reason)


def test_minimum_fill_time_is_capped_at_five_seconds(client, acme, make_form):
    form = make_form(min_fill_seconds=30)
    token = abuse.issue_token(form, rendered_at=time.time() - 6)
    client.post(PATH, data={**PERSON, "fill_token": token})
    [row] = submissions(acme)
    assert row.spam_reason is None


def test_missing_forged_or_foreign_token_on_the_html_path_is_quarantined(client, acme, make_form):
    form = make_form()
    other = make_form(slug="other-form")
    genuine = abuse.issue_token(form, rendered_at=time.time() - 60)
    payload, signature = genuine.rsplit(".", 1)
    sent = [
        {**PERSON, "email": "none@example.com"},
        {**PERSON, "email": "forged@example.com", "fill_token": payload + "." + signature[::-1]},
        {**PERSON, "email": "foreign@example.com", "fill_token": abuse.issue_token(other, rendered_at=time.time() - 60)},
        {**PERSON, "email": "garbage@example.com", "fill_token": "x" * 600},
    ]
    for data in sent:
        assert client.post(PATH, data=data).status_code == 200
    rows = submissions(acme)
    assert [(r.data["email"], r.status, r.spam_reason) for r in rows] == [
        (d["email"], "quarantined", "no token") for d in sent]
    assert leads(acme) == []


def test_json_without_token_passes_only_when_the_form_needs_no_fill_time(client, acme, make_form):
    make_form(min_fill_seconds=0)
    make_form(slug="strict", min_fill_seconds=3)
    assert client.post(PATH, json=PERSON).status_code == 201
    assert client.post("/t/acme/f/strict", json={**PERSON, "email": "b@example.com"}).status_code == 201
    relaxed, strict = submissions(acme)
    assert (relaxed.status, relaxed.spam_reason) == ("processed", None)
    assert (strict.status, strict.spam_reason) == ("quarantined", "no token")


def test_double_submit_of_one_rendering_is_stored_once(client, acme, make_form):
    make_form()
    shown = client.get(PATH)
    data = {**page_of(shown).hidden(), **PERSON}
    assert client.post(PATH, data=data).status_code == 200
    assert client.post(PATH, data=data).status_code == 200
    assert len(submissions(acme)) == 1 and len(leads(acme)) == 1


def test_a_replayed_token_with_other_data_is_kept_separately(client, acme, make_form):
    make_form()
    hidden = page_of(client.get(PATH)).hidden()
    client.post(PATH, data={**hidden, **PERSON})
    client.post(PATH, data={**hidden, **PERSON, "email": "second@example.com"})
    assert [r.data["email"] for r in submissions(acme)] == ["ann@example.com", "second@example.com"]


def test_without_token_or_key_the_same_payload_counts_once(client, acme, make_form):
    make_form(min_fill_seconds=0)
    assert client.post(PATH, json=PERSON).status_code == 201
    assert client.post(PATH, json=PERSON).status_code == 200
    assert len(submissions(acme)) == 1


def test_invalid_spam_is_shown_back_not_stored(client, acme, make_form):
    make_form()
    response = client.post(PATH, data={"name": "", "email": "x", "website": "http://spam.example"})
    assert response.status_code == 422
    assert submissions(acme) == []
