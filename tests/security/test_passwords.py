"""Passwords are stored as salted scrypt hashes, never as the password itself."""
from __future__ import annotations

from rapport.db import db
from rapport.provisioning import user_by_email
from rapport.security import hash_password, verify_password
from tests.conftest import PASSWORD


def assert_scrypt(stored: str | None, password: str):
    assert stored and stored.startswith("scrypt:"), stored
    assert password not in stored
    assert verify_password(stored, password) and not verify_password(stored, password + "x")


def test_signup_stores_scrypt_hash(client):
    response = client.post("/signup", data={
        "name": "Gamma", "slug": "gamma", "email": "founder@gamma.test", "password": PASSWORD,
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    assert_scrypt(user_by_email("founder@gamma.test").password_hash, PASSWORD)


def test_cli_created_owner_stores_scrypt_hash(runner):
    result = runner.invoke(args=["tenants", "create", "delta", "--name", "Delta",
                                 "--owner-email", "boss@delta.test", "--owner-password", PASSWORD])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert_scrypt(user_by_email("boss@delta.test").password_hash, PASSWORD)


def test_hashes_are_salted():
    assert hash_password(PASSWORD) != hash_password(PASSWORD)


def test_account_without_password_never_verifies():
    assert verify_password(None, PASSWORD) is False
