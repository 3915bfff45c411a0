"""What the staff pages show of each record type: names, form fields and list columns.

One table per type, so the list, record and form views stay generic. Validation is not here: it is
the input schemas' job (through ``crm``); these specs only say how to ask for and show a value.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from ..models import STAGES, Account, Activity, Contact, Lead
from ..models.records import ACTIVITY_KINDS

STAGE_LABELS = {
    "target": _l("Target"),
    "prospect": _l("Prospect"),
    "opportunity": _l("Opportunity"),
    "customer": _l("Customer"),
    "lost": _l("Lost"),
}
# A context tells the translator these are kinds of activity ("Email" sent, not an address).
KIND_LABELS = {
    "call": lazy_pgettext("activity kind", "Call"),
    "email": lazy_pgettext("activity kind", "Email"),
    "meeting": lazy_pgettext("activity kind", "Meeting"),
    "note": lazy_pgettext("activity kind", "Note"),
    "task": lazy_pgettext("activity kind", "Task"),
}
assert set(STAGE_LABELS) == set(STAGES) and set(KIND_LABELS) == set(ACTIVITY_KINDS)

# Reference columns and the record type they point at.
REFERENCE_TYPES = {"account_id": "accounts", "contact_id": "contacts", "lead_id": "leads"}


@dataclass(frozen=True)
class Field:
    """One form field. ``input`` is an HTML input type, or one of: textarea, stage, kind, owner,
    reference (a select of records of ``REFERENCE_TYPES[name]``), checkbox."""

    name: str
    label: str
    input: str = "text"
    required: bool = False
    help: str | None = None


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sort: str | None = None  # listing sort name, when the column is sortable


@dataclass(frozen=True)
class RecordType:
    key: str
    model: type
    singular: str
    plural: str
    fields: tuple[Field, ...]
    columns: tuple[Column, ...]
    filters: tuple[str, ...] = ()  # extra list filters shown as selects: "stage", "kind"
    search_help: str = ""

    @property
    def id_arg(self) -> str:
        """The URL variable naming one record: account_id, contact_id, lead_id, activity_id."""
        return "activity_id" if self.key == "activities" else f"{self.key[:-1]}_id"

    def endpoint(self, action: str) -> str:
        return f"ui.{action}_{self.key}"


OWNER = Field("owner_id", _l("Owner"), "owner")
CREATED = Column("created_at", _l("Created"), "created_at")
OWNER_COLUMN = Column("owner_id", _l("Owner"))

ACCOUNTS = RecordType(
    key="accounts",
    model=Account,
    singular=_l("Account"),
    plural=_l("Accounts"),
    fields=(
        Field("name", _l("Name"), required=True),
        Field("website", _l("Website"), "url", help=_l("Starting with https:// or http://")),
        Field("email", _l("Email"), "email"),
        Field("phone", _l("Phone"), "tel"),
        Field("industry", _l("Industry")),
        OWNER,
    ),
    columns=(
        Column("name", _l("Name"), "name"),
        Column("email", _l("Email")),
        Column("phone", _l("Phone")),
        Column("industry", _l("Industry")),
        OWNER_COLUMN,
        CREATED,
    ),
    search_help=_l("Name, email, phone or website"),
)

CONTACTS = RecordType(
    key="contacts",
    model=Contact,
    singular=_l("Contact"),
    plural=_l("Contacts"),
    fields=(
        Field("first_name", _l("First name")),
        Field("last_name", _l("Last name"), help=_l("Give a first or last name.")),
        Field("email", _l("Email"), "email"),
        Field("phone", _l("Phone"), "tel"),
        Field("title", _l("Job title")),
        Field("account_id", _l("Account"), "reference"),
        OWNER,
    ),
    columns=(
        Column("name", _l("Name"), "last_name"),
        Column("account_id", _l("Account")),
        Column("email", _l("Email")),
        Column("phone", _l("Phone")),
        OWNER_COLUMN,
        CREATED,
    ),
    search_help=_l("Name, email or phone"),
)

LEADS = RecordType(
    key="leads",
    model=Lead,
    singular=_l("Lead"),
    plural=_l("Leads"),
    fields=(
        Field("name", _l("Name"), required=True),
        Field("company", _l("Company")),
        Field("email", _l("Email"), "email"),
        Field("phone", _l("Phone"), "tel"),
        Field("stage", _l("Stage"), "stage"),
        Field("source", _l("Source")),
        Field("value", _l("Value"), help=_l("An amount such as 1200.50")),
        Field("account_id", _l("Account"), "reference"),
        Field("contact_id", _l("Contact"), "reference"),
        OWNER,
    ),
    columns=(
        Column("name", _l("Name"), "name"),
        Column("company", _l("Company")),
        Column("stage", _l("Stage")),
        Column("value", _l("Value")),
        OWNER_COLUMN,
        Column("stage_changed_at", _l("Stage changed"), "stage_changed_at"),
        CREATED,
    ),
    filters=("stage",),
    search_help=_l("Name, company, email or phone"),
)

ACTIVITIES = RecordType(
    key="activities",
    model=Activity,
    singular=_l("Activity"),
    plural=_l("Activities"),
    fields=(
        Field("kind", _l("Kind"), "kind", required=True),
        Field("subject", _l("Subject"), required=True),
        Field("body", _l("Details"), "textarea"),
        Field("due_at", _l("Due"), "datetime-local", help=_l("For tasks: date and time in UTC")),
        Field("done", _l("Done"), "checkbox"),
        Field("account_id", _l("Account"), "reference"),
        Field("contact_id", _l("Contact"), "reference"),
        Field("lead_id", _l("Lead"), "reference"),
        OWNER,
    ),
    columns=(
        Column("subject", _l("Subject")),
        Column("kind", _l("Kind")),
        Column("related", _l("Related to")),
        Column("due_at", _l("Due")),
        Column("done_at", _l("Done")),
        OWNER_COLUMN,
        CREATED,
    ),
    filters=("kind",),
    search_help=_l("Subject"),
)

RECORD_TYPES = {t.key: t for t in (ACCOUNTS, CONTACTS, LEADS, ACTIVITIES)}


def title(record) -> str:
    """The name a person would use for the record."""
    if isinstance(record, Activity):
        return record.subject
    return record.name or "—"
