"""The floor for the API benchmark: a bare WSGI app answering the same list query with psycopg.

No framework, no ORM, no auth, no tenancy: what is left is the database round trip, JSON encoding and
gunicorn. Served with the same gunicorn settings as the real app.

It connects as the same plain role as the app, so the same row-level security policy filters the rows.
The tenant setting is made once per connection (the app makes it per transaction): without it the policy
hides every row and the floor would answer an empty list for less than the real work.
"""
from __future__ import annotations

import json
import os
import uuid
from urllib.parse import parse_qs

import psycopg

SQL = (
    "SELECT id, first_name, last_name, email, phone, title, account_id, owner_id, custom, created_at, updated_at "
    "FROM contacts WHERE tenant_id = %s AND owner_id = %s ORDER BY last_name ASC, id ASC LIMIT %s"
)
COLUMNS = ("id", "first_name", "last_name", "email", "phone", "title", "account_id", "owner_id", "custom",
           "created_at", "updated_at")
_conn = None


def connection():
    """This process's connection, as the app's role with the tenant set (the lead floor shares it)."""
    global _conn
    if _conn is None or _conn.closed:
        _conn = psycopg.connect(os.environ["FLOOR_DSN"], autocommit=True)
        tenant_id = uuid.UUID(os.environ["FLOOR_TENANT_ID"])  # parsed: safe as a literal
        _conn.execute(f"SET app.tenant_id = '{tenant_id}'")
    return _conn


def _plain(value):
    if value is None or isinstance(value, (str, int, float, bool, dict, list)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def app(environ, start_response):
    args = parse_qs(environ.get("QUERY_STRING", ""))
    tenant_id = os.environ["FLOOR_TENANT_ID"]
    owner = args["owner"][0]
    limit = int(args.get("limit", ["50"])[0])
    rows = connection().execute(SQL, (tenant_id, owner, limit + 1)).fetchall()
    items = [{k: _plain(v) for k, v in zip(COLUMNS, row)} for row in rows[:limit]]
    body = json.dumps({"items": items, "next_cursor": "x" if len(rows) > limit else None}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
