"""Lead capture: public web forms (hosted or embedded) whose every genuine submission becomes a lead,
deduplicated, assigned at once and followed up in time. Spam is quarantined, never dropped.

Modules: ``models`` (tables), ``forms`` (the form definitions: validation shared by admin pages and
API), ``admin`` (the form builder and quarantine pages), ``api`` (``/api/v1/forms``), ``public`` (the
hosted page and JSON submit, with abuse checks), ``processing`` (dedupe, lead, assignment,
notification, on the task queue), ``assignment`` (round-robin, rules, availability), ``stale``
(speed to lead and reassignment), ``panels`` (how a lead was captured, on its page), ``cli``
(``rapport leads ...``).
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


@hookimpl
def register_blueprints():
    return [admin.bp, api.bp, public.bp, quarantine.bp, availability.bp]


# Each module registers its own hook implementations (menu entries via ``specname="menu_items"``).
# ``stale`` imports ``processing``, which declares the queue's jobs and periodic sweeps: the worker
# must import them to run them.
from . import admin, api, availability, public, quarantine  # noqa: E402
from .panels import record_panels  # noqa: E402,F401
from .admin import forms_menu_items  # noqa: E402,F401
from .availability import availability_menu_items  # noqa: E402,F401
from .quarantine import quarantine_menu_items  # noqa: E402,F401
from .stale import record_created, record_updated  # noqa: E402,F401
