"""``/plugins``: which plugins this tenant has switched on, and switching them (``plugins.manage``)."""
from __future__ import annotations

from flask import current_app, g
from flask_babel import gettext as _

from ..db import db
from ..plugin_host import set_plugin_enabled
from .auth import needs
from .blueprint import blp, json_response, problems
from .body import json_body
from .errors import ApiProblem
from .schemas import PluginListSchema, PluginSchema, PluginSwitchSchema

TAGS = ["plugins"]


def _host():
    return current_app.extensions["rapport.plugins"]


def _known(plugin: str) -> str:
    if plugin not in _host().plugin_names:
        raise ApiProblem(404, _("Not found"), _("There is no plugin %(plugin)s.", plugin=plugin))
    return plugin


def _state(plugin: str) -> dict:
    return {"name": plugin, "enabled": plugin in _host().enabled_plugins(g.tenant)}


@blp.route("/plugins", methods=["GET"], endpoint="list_plugins", tags=TAGS)
@blp.doc(operationId="listPlugins", summary="List installed plugins and whether each is on")
@blp.alt_response(200, schema=PluginListSchema, success=True)
@problems(401)
def list_plugins():
    return json_response({"items": [_state(name) for name in _host().plugin_names]})


@blp.route("/plugins/<plugin>", methods=["GET"], endpoint="get_plugin", tags=TAGS)
@blp.doc(operationId="getPlugin", summary="Whether one plugin is on")
@blp.alt_response(200, schema=PluginSchema, success=True)
@problems(401, 404)
def get_plugin(plugin):
    return json_response(_state(_known(plugin)))


@blp.route("/plugins/<plugin>", methods=["PUT"], endpoint="switch_plugin", tags=TAGS)
@blp.doc(operationId="switchPlugin", summary="Switch a plugin on or off (its data is kept)",
         requestBody={"required": True, "content": {"application/json": {"schema": PluginSwitchSchema}}})
@blp.alt_response(200, schema=PluginSchema, success=True)
@problems(400, 401, 403, 404, 415, 422)
@needs("plugins.manage")
def switch_plugin(plugin):
    _known(plugin)
    values = PluginSwitchSchema().load(json_body())
    set_plugin_enabled(_host(), g.tenant, plugin, values["enabled"])
    db.session.commit()
    return json_response(_state(plugin))
