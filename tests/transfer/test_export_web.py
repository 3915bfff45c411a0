"""The export page and CSV downloads: what the member may see, streamed, formulas escaped."""
from __future__ import annotations

import pytest

from rapport.models import Account, Contact, Lead
from rapport.transfer import csv_export
from rapport.transfer.columns import escape_formula, unescape_formula

from .support import custom_role, make, parse_csv, records, upload


def download(client, record_type: str, slug: str = "acme"):
    response = client.get(f"/t/{slug}/export/{record_type}.csv")
    assert response.status_code == 200, response.status_code
    return response


def test_export_page_lists_the_three_types(owner):
    page = owner.get("/t/acme/export").get_data(as_text=True)
    for record_type in ("accounts", "contacts", "leads"):
        assert f'href="/t/acme/export/{record_type}.csv"' in page


def test_download_is_an_attached_utf8_csv_with_header(owner, acme):
    make(acme, "accounts", name="Northwind", phone="555 0100")
    response = download(owner, "accounts")
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="acme-accounts-')
    assert "Content-Length" not in response.headers  # streamed as written, not built whole first
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    assert parse_csv(text) == [["name", "website", "email", "phone", "industry", "owner"],
                               ["Northwind", "", "", "555 0100", "", ""]]


def test_agent_export_holds_own_and_unassigned_records_only(client, world, acme):
    custom_role(acme, "exporting-agent", ["records.read", "records.write", "records.export"])
    agent = world.member(acme, "agent@acme.test", "exporting-agent")
    other = world.member(acme, "other@acme.test", "agent")
    make(acme, "leads", name="Mine", owner_id=str(agent.id))
    make(acme, "leads", name="Nobody's")
    make(acme, "leads", name="Theirs", owner_id=str(other.id))
    world.login(client, "agent@acme.test")
    rows = parse_csv(download(client, "leads").get_data(as_text=True))
    assert sorted(r[0] for r in rows[1:]) == ["Mine", "Nobody's"]
    assert {r[-1] for r in rows[1:]} == {"agent@acme.test", ""}


def test_managers_export_everything(owner, acme, world):
    other = world.member(acme, "other@acme.test", "agent")
    make(acme, "leads", name="Theirs", owner_id=str(other.id))
    make(acme, "leads", name="Nobody's")
    rows = parse_csv(download(owner, "leads").get_data(as_text=True))
    assert sorted(r[0] for r in rows[1:]) == ["Nobody's", "Theirs"]


def test_export_holds_only_this_tenants_records(owner, acme, world):
    other = world.tenant("globex")
    make(other, "accounts", name="Globex secret")
    make(acme, "accounts", name="Northwind")
    text = download(owner, "accounts").get_data(as_text=True)
    assert "Northwind" in text and "Globex secret" not in text


@pytest.mark.parametrize("value", ["=cmd|' /C calc'!A0", "+1+1", "@SUM(A1)", "-2+3", "'=already quoted"])
def test_export_escapes_spreadsheet_formulas(owner, acme, value):
    make(acme, "accounts", name=f"x{value}", industry=value)
    rows = parse_csv(download(owner, "accounts").get_data(as_text=True))
    assert rows[1][0] == f"x{value}"
    assert rows[1][4] == "'" + value


@pytest.mark.parametrize("value", ["\tTAB", "\rCR", "=1", "+1", "-1", "@A1", "'=1", "''+1"])
def test_formula_escaping_is_undone_exactly_by_the_import(value):
    # Tabs and carriage returns cannot reach a stored value (input is trimmed), so checked here.
    escaped = escape_formula(value)
    assert escaped == "'" + value
    assert unescape_formula(escaped) == value


@pytest.mark.parametrize("value", ["plain", "'quoted", "a=b", "王小明", ""])
def test_ordinary_values_are_left_alone(value):
    assert escape_formula(value) == value == unescape_formula(value)


def test_export_streams_in_keyset_batches(owner, acme, monkeypatch):
    monkeypatch.setattr(csv_export, "BATCH_SIZE", 2)
    names = [f"Account {n}" for n in range(5)]
    for name in names:
        make(acme, "accounts", name=name)
    response = download(owner, "accounts")
    chunks = [c for c in response.iter_encoded() if c]
    assert len(chunks) == 1 + 3  # the header, then batches of 2, 2 and 1
    rows = parse_csv(b"".join(chunks).decode("utf-8"))
    assert sorted(r[0] for r in rows[1:]) == names


def test_unknown_record_type_is_404(owner):
    assert owner.get("/t/acme/export/activities.csv").status_code == 404
    assert owner.get("/t/acme/export/users.csv").status_code == 404


def test_export_needs_the_export_permission(client, world, acme):
    world.member(acme, "agent@acme.test", "agent")
    world.login(client, "agent@acme.test")
    assert client.get("/t/acme/export").status_code == 403
    assert client.get("/t/acme/export/accounts.csv").status_code == 403


def test_chinese_names_and_plus86_phones_round_trip(owner, acme, world):
    make(acme, "contacts", last_name="王", first_name="小明", phone="+86 138 0013 8000", title="总经理")
    text = download(owner, "contacts").get_data(as_text=True)
    assert "王,小明" not in text  # first_name comes first
    assert "小明,王" in text and "'+86 138 0013 8000" in text
    beta = world.tenant("beta", owner_email="owner@acme.test")
    assert upload(owner, "contacts", text.encode("utf-8"), slug="beta").status_code == 200
    contacts = records(beta, Contact)
    assert [(c.last_name, c.first_name, c.phone, c.title) for c in contacts] == [("王", "小明", "+86 138 0013 8000", "总经理")]


def test_export_then_import_round_trip(owner, acme, world):
    agent = world.member(acme, "agent@acme.test", "agent")
    northwind = make(acme, "accounts", name="Northwind", website="https://northwind.example", industry="+retail",
                     owner_id=str(agent.id))
    make(acme, "contacts", first_name="Nancy", last_name="Davolio", email="nancy@northwind.example",
         account_id=str(northwind.id), owner_id=str(agent.id))
    make(acme, "leads", name="=Janet", company="@Leverling", stage="customer", value="1250.50",
         account_id=str(northwind.id))
    exported = {t: download(owner, t).get_data() for t in ("accounts", "contacts", "leads")}

    beta = world.tenant("beta", owner_email="owner@acme.test")
    world.member(beta, "agent@acme.test", "agent")
    for record_type, content in exported.items():
        response = upload(owner, record_type, content, slug="beta")
        assert response.status_code == 200, response.get_data(as_text=True)
    again = {t: download(owner, t, slug="beta").get_data() for t in exported}
    assert again == exported
    (lead,) = records(beta, Lead)
    assert (lead.name, lead.company, lead.stage, str(lead.value)) == ("=Janet", "@Leverling", "customer", "1250.50")
    (account,) = records(beta, Account)
    assert account.industry == "+retail" and lead.account_id == account.id
