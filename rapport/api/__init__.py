"""The JSON REST API under ``/t/<tenant_slug>/api/v1/``."""
from flask import Flask


def init_app(app: Flask) -> None:
    return None
