"""The core's own behaviour, written as an always-on plugin of the same hooks (as datasette does)."""
from flask_babel import lazy_gettext as _l

from .hookspecs import hookimpl

ALL_ROLES = ["owner", "admin", "manager", "agent", "viewer"]
STAFF = ["owner", "admin", "manager", "agent"]
MANAGERS = ["owner", "admin", "manager"]
ADMINS = ["owner", "admin"]

# Labels stay lazy: the roles pages render them in the reader's language.
CORE_PERMISSIONS = [
    ("records.read", _l("See customer records"), ALL_ROLES),
    ("records.write", _l("Create and edit customer records"), STAFF),
    ("records.delete", _l("Delete customer records"), STAFF),
    ("records.view_all", _l("See every record, not only own and unassigned ones"), MANAGERS + ["viewer"]),
    ("records.edit_all", _l("Edit every record, not only own and unassigned ones"), MANAGERS),
    ("records.import", _l("Import records from CSV"), MANAGERS),
    ("records.export", _l("Export records to CSV"), MANAGERS),
    ("members.manage", _l("Invite members and change their roles"), ADMINS),
    ("roles.manage", _l("Create and edit custom roles"), ADMINS),
    ("plugins.manage", _l("Switch plugins on and off and edit their settings"), ADMINS),
    ("fields.manage", _l("Manage custom fields"), ADMINS),
    ("audit.read", _l("Read the audit log"), ADMINS),
    ("tokens.manage", _l("Create and revoke one's own API tokens"), STAFF),
]


@hookimpl(trylast=True)
def register_permissions():
    return [{"name": n, "label": label, "roles": roles} for n, label, roles in CORE_PERMISSIONS]


@hookimpl(trylast=True)
def menu_items(member):
    items = [
        {"section": "nav", "label": _l("Dashboard"), "endpoint": "ui.dashboard"},
        {"section": "nav", "label": _l("Accounts"), "endpoint": "ui.list_accounts", "permission": "records.read"},
        {"section": "nav", "label": _l("Contacts"), "endpoint": "ui.list_contacts", "permission": "records.read"},
        {"section": "nav", "label": _l("Leads"), "endpoint": "ui.list_leads", "permission": "records.read"},
        {"section": "nav", "label": _l("Activities"), "endpoint": "ui.list_activities", "permission": "records.read"},
        {"section": "nav", "label": _l("Import"), "endpoint": "transfer.import_records", "permission": "records.import"},
        {"section": "nav", "label": _l("Export"), "endpoint": "transfer.export_page", "permission": "records.export"},
        {"section": "admin", "label": _l("Members"), "endpoint": "admin.members", "permission": "members.manage"},
        {"section": "admin", "label": _l("Roles"), "endpoint": "admin.roles", "permission": "roles.manage"},
        {"section": "admin", "label": _l("Custom fields"), "endpoint": "admin.fields_home", "permission": "fields.manage"},
        {"section": "admin", "label": _l("Plugins"), "endpoint": "admin.plugins", "permission": "plugins.manage"},
        {"section": "admin", "label": _l("Audit log"), "endpoint": "admin.audit", "permission": "audit.read"},
        {"section": "admin", "label": _l("API tokens"), "endpoint": "admin.tokens", "permission": "tokens.manage"},
    ]
    return items


@hookimpl(trylast=True)
def register_usage_meters():
    return [
        {"name": "records.created", "label": _l("Records created"), "unit": "records"},
        {"name": "api.requests", "label": _l("API requests"), "unit": "requests"},
    ]
