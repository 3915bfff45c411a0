"""Lead capture: public web forms (hosted or embedded) whose every genuine submission becomes a lead,
deduplicated, assigned at once and followed up in time. Spam is quarantined, never dropped.

Modules: ``models`` (tables), ``forms`` (the form definitions: validation shared by admin pages and
API), ``admin`` (the form builder and quarantine pages), ``api`` (``/api/v1/forms``), ``public`` (the
hosted page and JSON submit, with abuse checks), ``processing`` (dedupe, lead, assignment,
notification, on the task queue), ``assignment`` (round-robin, rules, availability), ``stale``
(speed to lead and reassignment), ``cli`` (``rapport leads ...``).
"""
from flask_babel import lazy_gettext as _l

from rapport import hookimpl

from . import models  # noqa: F401  (registers the plugin's tables)

PLUGIN_NAME = "lead_capture"
PLUGIN_DESCRIPTION = _l("Lead capture: public web forms that turn every genuine submission into an assigned lead.")


@hookimpl
def register_permissions():
    return [
        {"name": "forms.manage", "label": _l("Manage lead forms and review quarantined submissions"),
         "roles": ["owner", "admin"]},
    ]


@hookimpl
def register_usage_meters():
    return [{"name": "leads.captured", "label": _l("Leads captured by forms"), "unit": "submissions"}]


def _blueprints():
    """Every blueprint of the plugin, from the modules that define one (``bp``)."""
    import importlib

    found = []
    for name in ("admin", "api", "public", "quarantine", "availability"):
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        found.extend(getattr(module, "BLUEPRINTS", [module.bp] if hasattr(module, "bp") else []))
    return found


@hookimpl
def register_blueprints():
    return _blueprints()

