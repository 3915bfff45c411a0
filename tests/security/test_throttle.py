"""Log-in throttling: a burst of wrong passwords for one account from one address is stopped (429),
yet the owner of that account can still log in from elsewhere (an attacker cannot lock them out),
and one address cannot spray many accounts either."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

PER_ACCOUNT, PER_IP = 3, 6
ATTACKER = {"REMOTE_ADDR": "203.0.113.9"}
OWNER = {"REMOTE_ADDR": "198.51.100.7"}


@pytest.fixture
def app_config():
    return {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "rapport-memory://",
        "LOGIN_RATE_LIMIT_ACCOUNT": f"{PER_ACCOUNT} per minute",
        "LOGIN_RATE_LIMIT_IP": f"{PER_IP} per minute",
    }


def attempt(client, email, password="wrong password!", where=ATTACKER):
    return client.post("/login", data={"email": email, "password": password}, environ_base=where)


def test_burst_on_one_account_is_throttled(client, alpha):
    statuses = [attempt(client, alpha.owner_email).status_code for _ in range(PER_ACCOUNT + 1)]
    assert statuses == [401] * PER_ACCOUNT + [429]
    # The attacker's address stays blocked for this account, even with the right password.
    assert attempt(client, alpha.owner_email, PASSWORD).status_code == 429


def test_owner_still_logs_in_from_elsewhere(app, client, alpha):
    for _ in range(PER_ACCOUNT + 1):
        attempt(client, alpha.owner_email)
    owner = app.test_client()
    response = attempt(owner, alpha.owner_email, PASSWORD, where=OWNER)
    assert response.status_code == 302
    assert owner.get("/t/alpha/", environ_base=OWNER).status_code == 200


def test_one_address_cannot_spray_many_accounts(client, alpha):
    emails = [f"victim{i}@spray.test" for i in range(PER_IP)]
    statuses = [attempt(client, email).status_code for email in emails]
    assert 429 not in statuses
    assert attempt(client, "one-more@spray.test").status_code == 429
    assert attempt(client, alpha.owner_email, PASSWORD).status_code == 429


def test_throttled_answer_is_a_page_with_retry_after(client, alpha):
    for _ in range(PER_ACCOUNT):
        attempt(client, alpha.owner_email)
    response = attempt(client, alpha.owner_email)
    assert response.status_code == 429 and response.mimetype == "text/html"
    assert int(response.headers["Retry-After"]) > 0


def test_email_case_and_spaces_do_not_escape_the_account_limit(client, alpha):
    variants = [alpha.owner_email, alpha.owner_email.upper(), f"  {alpha.owner_email} ", alpha.owner_email.title()]
    statuses = [attempt(client, email).status_code for email in variants]
    assert statuses == [401] * PER_ACCOUNT + [429]
