"""The import page: the whole file is checked first; bad rows are reported by line, column and
reason; nothing is written unless the file is clean or the good rows only are asked for."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from rapport import crm, tenancy
from rapport.db import db
from rapport.models import Account, AuditEvent, Contact, Lead, LeadStageChange

from .support import audit_channels, make, records, upload


def test_form_shows_the_three_record_types(owner):
    page = owner.get("/t/acme/import").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    for value in ("accounts", "contacts", "leads"):
        assert f'value="{value}"' in page
    assert 'name="good_rows_only"' in page


def test_clean_import_of_accounts(owner, acme):
    response = upload(owner, "accounts", "name,website,email,phone,industry\n"
                      "Northwind,https://northwind.example,info@northwind.example,+1 555 0100,Retail\n"
                      "Contoso,,,,\n")
    assert response.status_code == 200
    assert "Imported 2 of 2 rows" in response.get_data(as_text=True)
    accounts = records(acme, Account)
    assert [(a.name, a.website, a.industry) for a in accounts] == [
        ("Northwind", "https://northwind.example", "Retail"), ("Contoso", None, None)]


def test_clean_import_of_contacts_links_accounts_by_name_and_owners_by_email(owner, acme, world):
    northwind = make(acme, "accounts", name="Northwind")
    agent = world.member(acme, "agent@acme.test", "agent")
    response = upload(owner, "contacts", "First Name,Last Name,Email,Account,Owner\n"
                      "Nancy,Davolio,nancy@northwind.example,northwind,AGENT@acme.test\n"
                      ",Fuller,,,\n")
    assert response.status_code == 200, response.get_data(as_text=True)
    nancy, fuller = records(acme, Contact)
    assert (nancy.first_name, nancy.account_id, nancy.owner_id) == ("Nancy", northwind.id, agent.id)
    assert (fuller.last_name, fuller.account_id, fuller.owner_id) == ("Fuller", None, None)


def test_clean_import_of_leads_keeps_stage_and_value(owner, acme):
    response = upload(owner, "leads", "name,company,stage,value,source\n"
                      "Janet,Leverling Ltd,opportunity,1250.50,fair\nSteven,,,,\n")
    assert response.status_code == 200
    janet, steven = records(acme, Lead)
    assert (janet.stage, str(janet.value), janet.source) == ("opportunity", "1250.50", "fair")
    assert steven.stage == "target"
    with tenancy.tenant_scope(acme.id):
        history = db.session.scalars(select(LeadStageChange.to_stage).where(LeadStageChange.lead_id == janet.id)).all()
    assert history == ["opportunity"]


def test_import_is_audited_on_the_import_channel_as_the_member(owner, acme):
    upload(owner, "accounts", "name\nNorthwind\n")
    with tenancy.tenant_scope(acme.id):
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "create"))
    assert (event.channel, event.actor_type, event.actor_label) == ("import", "member", "owner@acme.test")


BAD_FILE = (
    "name,email,website\n"                       # line 1
    "Good One,good@example.com,\n"              # line 2
    "Bad Email,not-an-email,\n"                 # line 3
    '"Multi\nLine",ok@example.com,\n'           # lines 4-5: one row spanning two lines
    ",nobody@example.com,ftp://x\n"             # line 6: two problems
    "Good Two,,\n"                              # line 7
)


def test_bad_rows_are_reported_by_line_column_reason_and_nothing_is_written(owner, acme):
    response = upload(owner, "accounts", BAD_FILE)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was imported" in page
    assert "<tr><td>3</td><td>email</td><td>Not a valid email address.</td></tr>" in page
    assert "<tr><td>6</td><td>name</td><td>Missing data for required field.</td></tr>" in page
    assert "<tr><td>6</td><td>website</td>" in page
    assert "<td>2</td>" not in page and "<td>4</td>" not in page and "<td>7</td>" not in page
    assert records(acme, Account) == []
    assert audit_channels(acme) == set()


def test_good_rows_only_writes_the_good_rows_and_lists_the_skipped(owner, acme):
    response = upload(owner, "accounts", BAD_FILE, good_rows_only=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Imported 3 of 5 rows" in page and "skipped" in page
    assert "<tr><td>3</td><td>email</td>" in page
    assert [a.name for a in records(acme, Account)] == ["Good One", "Multi\nLine", "Good Two"]


def test_unknown_columns_are_named_up_front(owner, acme):
    response = upload(owner, "accounts", "name,colour,Shoe Size\nNorthwind,red,42\n")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Unknown columns: &#34;colour&#34;, &#34;Shoe Size&#34;" in page
    assert records(acme, Account) == []


def test_missing_required_column_is_reported_up_front(owner, acme):
    response = upload(owner, "leads", "company\nLeverling Ltd\n")
    assert response.status_code == 422
    assert "Missing columns: name." in response.get_data(as_text=True)


def test_headers_match_case_insensitively_and_trimmed(owner, acme):
    response = upload(owner, "contacts", "  FIRST name ,Last_Name,  EMAIL\nAnne,Dodsworth,anne@example.com\n")
    assert response.status_code == 200
    assert [(c.first_name, c.email) for c in records(acme, Contact)] == [("Anne", "anne@example.com")]


def test_byte_order_mark_is_accepted(owner, acme):
    response = upload(owner, "accounts", "\ufeffname,phone\nNorthwind,+1 555 0100\n".encode("utf-8"))
    assert response.status_code == 200
    assert [a.name for a in records(acme, Account)] == ["Northwind"]


def test_invalid_utf8_is_a_clear_error_naming_the_line(owner, acme):
    content = "name\nNorthwind\n".encode() + "Müller GmbH\n".encode("latin-1")
    response = upload(owner, "accounts", content)
    assert response.status_code == 422
    assert "Line 3 is not valid UTF-8" in response.get_data(as_text=True)
    assert records(acme, Account) == []


def test_chinese_names_and_plus86_phones_are_imported(owner, acme):
    response = upload(owner, "contacts", "last_name,first_name,phone\n王,小明,+86 138 0013 8000\n")
    assert response.status_code == 200
    (contact,) = records(acme, Contact)
    assert (contact.last_name, contact.first_name, contact.phone) == ("王", "小明", "+86 138 0013 8000")


def test_unknown_and_ambiguous_account_names_are_row_errors(owner, acme):
    make(acme, "accounts", name="Twin")
    make(acme, "accounts", name="Twin")
    response = upload(owner, "contacts", "last_name,account\nA,Twin\nB,Nowhere\n")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "<tr><td>2</td><td>account</td><td>2 accounts are named &#34;Twin&#34;" in page
    assert "<tr><td>3</td><td>account</td><td>No account named &#34;Nowhere&#34;.</td></tr>" in page
    assert records(acme, Contact) == []


def test_unknown_owner_email_is_a_row_error(owner, acme):
    response = upload(owner, "leads", "name,owner\nJanet,ghost@example.com\n")
    assert response.status_code == 422
    assert "No active member with the email &#34;ghost@example.com&#34;." in response.get_data(as_text=True)


def test_a_member_who_may_assign_only_themselves_cannot_import_for_others(client, world, acme):
    from .support import custom_role

    custom_role(acme, "importer", ["records.read", "records.write", "records.import"])
    world.member(acme, "imp@acme.test", "importer")
    world.login(client, "imp@acme.test")
    response = upload(client, "leads", "name,owner\nJanet,owner@acme.test\n")
    assert response.status_code == 422
    assert "You can assign records only to yourself." in response.get_data(as_text=True)
    assert records(acme, Lead) == []


def test_a_row_with_more_cells_than_columns_is_a_row_error(owner, acme):
    response = upload(owner, "accounts", "name\nNorthwind,extra\n")
    assert response.status_code == 422
    assert "This row has 2 cells but the header names 1 columns." in response.get_data(as_text=True)


def test_blank_lines_are_skipped_but_keep_line_numbers(owner, acme):
    response = upload(owner, "accounts", "name,email\n\nNorthwind,x\n")
    assert response.status_code == 422
    assert "<tr><td>3</td><td>email</td>" in response.get_data(as_text=True)


def test_form_errors_name_the_field(owner):
    response = owner.post("/t/acme/import", data={"record_type": "activities"}, content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="e-record_type"' in page and 'id="e-file"' in page


def test_a_failure_half_way_leaves_nothing(owner, acme, monkeypatch):
    real_create, calls = crm.create, []

    def failing_create(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real_create(*args, **kwargs)

    monkeypatch.setattr(crm, "create", failing_create)
    owner.application.testing = False  # answer with a 500 page instead of raising into the test
    response = upload(owner, "accounts", "name\nA\nB\nC\nD\n")
    assert response.status_code == 500
    assert len(calls) == 3
    assert records(acme, Account) == []


def test_import_needs_the_import_permission(client, world, acme):
    world.member(acme, "agent@acme.test", "agent")
    world.login(client, "agent@acme.test")
    assert client.get("/t/acme/import").status_code == 403
    assert upload(client, "accounts", "name\nX\n").status_code == 403
    assert records(acme, Account) == []


def test_the_menu_links_import_and_export_for_managers_only(client, world, acme):
    world.member(acme, "agent@acme.test", "agent")
    world.login(client, "owner@acme.test")
    page = client.get("/t/acme/").get_data(as_text=True)
    assert 'href="/t/acme/import"' in page and 'href="/t/acme/export"' in page
    client.post("/logout")
    world.login(client, "agent@acme.test")
    page = client.get("/t/acme/").get_data(as_text=True)
    assert 'href="/t/acme/import"' not in page and 'href="/t/acme/export"' not in page


def test_a_row_refused_in_the_second_pass_is_reported_and_nothing_is_kept(owner, acme, monkeypatch):
    from marshmallow import ValidationError

    real_create, calls = crm.create, []

    def create_refusing_the_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # e.g. the row's account was deleted between the two passes
            raise ValidationError({"account_id": ["No such record in this workspace."]})
        return real_create(*args, **kwargs)

    monkeypatch.setattr(crm, "create", create_refusing_the_second)
    response = upload(owner, "accounts", "name\nA\nB\nC\n")
    assert response.status_code == 422
    assert "<tr><td>3</td><td>account</td><td>No such record in this workspace.</td></tr>" in response.get_data(as_text=True)
    assert records(acme, Account) == []


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
def test_any_line_ending_is_read_and_lines_are_counted(owner, acme, newline):
    content = newline.join(["name,email", "Good,good@example.com", '"Two', 'Lines",x@example.com', "Bad,nope"])
    response = upload(owner, "accounts", content)
    assert response.status_code == 422
    assert "<tr><td>5</td><td>email</td>" in response.get_data(as_text=True)
    response = upload(owner, "accounts", content, good_rows_only=True)
    assert [a.name for a in records(acme, Account)] == ["Good", "Two" + newline + "Lines"]
