"""WSGI entry point: ``gunicorn wsgi:app``."""
from rapport import create_app

app = create_app()
