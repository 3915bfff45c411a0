"""A second, reference floor for the lead-capture benchmark: the same INSERT as bench/floor_submit.py,
but in Flask with SQLAlchemy's pooled engine and one transaction per request that hands the tenant to
row-level security as the app does (``BEGIN; SET LOCAL ...`` in one message, as
``rapport.db._begin_with_setting`` sends it, then the INSERT and the COMMIT: the app's round trips),
and nothing else: no tenant lookup, no form, no validation, no limits, no queue. It shows what the
required framework costs before any feature is built on it.
"""
from __future__ import annotations

import os
import uuid

from flask import Flask, jsonify, request
from psycopg.types.json import Jsonb
from sqlalchemy import create_engine
from uuid_utils.compat import uuid7

from bench.floor_submit import SQL

app = Flask(__name__)
engine = create_engine(os.environ["FLOOR_SQLALCHEMY_URL"])
TENANT = uuid.UUID(os.environ["FLOOR_TENANT_ID"])  # parsed: safe as a literal
FORM = uuid.UUID(os.environ["FLOOR_FORM_ID"])
BEGIN = f"BEGIN; SET LOCAL app.tenant_id = '{TENANT}'".encode()


@app.get("/")
def ready():
    return "ok"


@app.post("/t/<tenant_slug>/f/<form_slug>")
def submit(tenant_slug, form_slug):
    data = request.get_json()
    row_id = uuid7()
    key = request.headers.get("Idempotency-Key") or str(row_id)
    with engine.begin() as conn:
        conn.connection.dbapi_connection.pgconn.exec_(BEGIN)  # psycopg then sends no BEGIN of its own
        conn.exec_driver_sql(SQL, (TENANT, row_id, FORM, key, Jsonb(data), Jsonb({}),
                                   request.remote_addr, request.user_agent.string[:500]))
    return jsonify(id=str(row_id), status="received"), 201
