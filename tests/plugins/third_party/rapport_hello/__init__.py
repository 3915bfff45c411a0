"""Hello: greets the members of the tenants that switch it on."""
from flask import Blueprint, g, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from marshmallow import Schema, fields, validate

from rapport import hookimpl
from rapport.pipeline import require
from rapport.plugin_host import current_host, plugin_settings

PLUGIN_NAME = "hello"

# Every plugin URL lives under /t/<tenant_slug>/: the host then answers 404 where it is off.
bp = Blueprint("hello", __name__, url_prefix="/t/<tenant_slug>/hello", template_folder="templates")


class HelloSettings(Schema):
    greeting = fields.String(
        load_default="Hello",
        validate=validate.Length(min=1, max=40),
        metadata={"label": _l("Greeting"), "description": _l("Shown on the page and the dashboard.")},
    )


def _greeting() -> str:
    return plugin_settings(current_host(), PLUGIN_NAME)["greeting"]


@bp.get("/")
@require("hello.greet")
def greet():
    return render_template("hello/greet.html", greeting=_greeting(), name=g.member.user.display_name)


@hookimpl
def register_permissions():
    return [{"name": "hello.greet", "label": _l("Be greeted"), "roles": ["owner", "admin", "manager", "agent", "viewer"]}]


@hookimpl
def register_blueprints():
    return [bp]


@hookimpl
def plugin_settings_schema():
    return HelloSettings()


@hookimpl
def menu_items(member):
    return [{"section": "nav", "label": _l("Hello"), "endpoint": "hello.greet", "permission": "hello.greet"}]


@hookimpl
def dashboard_panels(tenant, member):
    if not member.can("hello.greet"):
        return []
    # Markup.format escapes its arguments: the greeting and the tenant's name are user data.
    text = _("%(greeting)s from %(tenant)s!", greeting=_greeting(), tenant=tenant.name)
    return [{"title": _l("Hello"), "html": Markup("<p class='hello'>{}</p>").format(text)}]
