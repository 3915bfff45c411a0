"""The JSON REST API under ``/t/<tenant_slug>/api/v1/`` (see ``docs/api.md``).

flask-smorest collects the routes and their schemas into one OpenAPI document; the tenant's copy is
served by :mod:`.openapi`. Authentication is by bearer token only, so the API is exempt from CSRF.
"""
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from flask_smorest import Api

from ..security import csrf
from . import fields, plugins, records  # noqa: F401 - importing them adds their routes to the blueprint
from .blueprint import blp
from .openapi import docs_bp
from .schemas import ProblemSchema, decimal_properties, schema_name


class RapportApi(Api):
    """flask-smorest, with errors documented and rendered as RFC 9457 problems."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = None  # each view documents its own problem responses

    def _register_error_handlers(self):
        # Not smorest's app-wide JSON handler: the API blueprint renders problems (rapport.api.errors)
        # and the app's handler keeps rendering HTML pages for the web UI.
        return None


def init_app(app: Flask) -> None:
    api = RapportApi(app, spec_kwargs={"marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=schema_name)})
    api.ma_plugin.converter.add_attribute_function(decimal_properties)
    api.register_blueprint(blp)
    app.register_blueprint(docs_bp)
    csrf.exempt(blp)
    app.extensions["rapport.api"] = api
