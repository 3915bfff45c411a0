"""The floor for the lead-capture benchmark: a bare WSGI app doing the same INSERT as a form submission.

No framework, no validation, no spam checks, no queue: parse the JSON body, insert one row into
``lead_capture_submissions`` as the same plain role as the app (row-level security on), commit, answer
201. Served with the same gunicorn settings as the real app. Its rows are stored as 'discarded' so
that the real app's task worker, running in the same database, leaves them alone.
"""
from __future__ import annotations

import json
import os

from psycopg.types.json import Jsonb
from uuid_utils.compat import uuid7

from bench.floor_app import connection

SQL = (
    "INSERT INTO lead_capture_submissions (tenant_id, id, form_id, dedupe_key, status, data, utm, ip, "
    "user_agent, received_at, reassigned_count) "
    "VALUES (%s, %s, %s, %s, 'discarded', %s, %s, %s, %s, now(), 0)"
)


def app(environ, start_response):
    if environ["REQUEST_METHOD"] != "POST":  # readiness probe
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    data = json.loads(environ["wsgi.input"].read(length))
    row_id = uuid7()
    key = environ.get("HTTP_IDEMPOTENCY_KEY") or str(row_id)
    connection().execute(SQL, (
        os.environ["FLOOR_TENANT_ID"], row_id, os.environ["FLOOR_FORM_ID"], key, Jsonb(data), Jsonb({}),
        environ.get("REMOTE_ADDR"), environ.get("HTTP_USER_AGENT", "")[:500],
    ))
    body = json.dumps({"id": str(row_id), "status": "received"}).encode()
    start_response("201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
