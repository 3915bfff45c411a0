"""``rapport import`` and ``rapport export`` through the CLI runner."""
from __future__ import annotations

from sqlalchemy import select

from rapport import tenancy
from rapport.db import db
from rapport.models import Account, AuditEvent, Contact, Lead

from .support import make, parse_csv, records

BAD = "name,email\nGood,good@example.com\nBad,nope\n,missing@example.com\nAlso Good,\n"


def write(tmp_path, content, name="in.csv"):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return str(path)


def test_import_clean_file_with_progress(runner, acme, tmp_path):
    result = runner.invoke(args=["import", "acme", "accounts", write(tmp_path, "name\nNorthwind\nContoso\n")])
    assert result.exit_code == 0, result.output
    assert "imported 2 accounts" in result.stdout
    assert "Importing" in result.stderr  # the progress bar's label
    assert [a.name for a in records(acme, Account)] == ["Northwind", "Contoso"]
    with tenancy.tenant_scope(acme.id):
        events = db.session.scalars(select(AuditEvent)).all()
    assert {(e.actor_type, e.channel) for e in events} == {("operator", "cli")}


def test_import_bad_file_exits_non_zero_with_the_row_report(runner, acme, tmp_path):
    result = runner.invoke(args=["import", "acme", "accounts", write(tmp_path, BAD)])
    assert result.exit_code == 1
    assert "line 3, column email: Not a valid email address." in result.stderr
    assert "line 4, column name: Missing data for required field." in result.stderr
    assert "nothing imported: 2 of 4 rows have problems" in result.stderr
    assert records(acme, Account) == []


def test_import_good_rows_only(runner, acme, tmp_path):
    result = runner.invoke(args=["import", "acme", "accounts", write(tmp_path, BAD), "--good-rows-only"])
    assert result.exit_code == 0, result.output
    assert "imported 2 accounts, skipped 2 bad rows" in result.stdout
    assert "line 3, column email" in result.stderr
    assert [a.name for a in records(acme, Account)] == ["Good", "Also Good"]


def test_import_file_error_is_a_clear_failure(runner, acme, tmp_path):
    result = runner.invoke(args=["import", "acme", "accounts", write(tmp_path, "name,colour\nX,red\n")])
    assert result.exit_code == 1
    assert 'Unknown columns: "colour"' in result.stderr
    result = runner.invoke(args=["import", "acme", "accounts", write(tmp_path, b"name\n\xff\xfe\n")])
    assert result.exit_code == 1 and "Line 2 is not valid UTF-8" in result.stderr


def test_import_as_a_member_applies_their_rules_and_names_them(runner, acme, world, tmp_path):
    agent = world.member(acme, "agent@acme.test", "manager")
    result = runner.invoke(args=["import", "acme", "leads", write(tmp_path, "name\nJanet\n"), "--as", "Agent@acme.test"])
    assert result.exit_code == 0, result.output
    with tenancy.tenant_scope(acme.id):
        event = db.session.scalar(select(AuditEvent))
    assert (event.actor_type, event.actor_id, event.actor_label, event.channel) == (
        "member", str(agent.id), "agent@acme.test", "cli")


def test_import_as_a_member_without_the_permission_is_refused(runner, acme, world, tmp_path):
    world.member(acme, "agent@acme.test", "agent")
    result = runner.invoke(args=["import", "acme", "leads", write(tmp_path, "name\nJanet\n"), "--as", "agent@acme.test"])
    assert result.exit_code == 1 and "lacks the permission records.import" in result.stderr
    assert records(acme, Lead) == []


def test_import_unknown_tenant_and_type(runner, acme, tmp_path):
    path = write(tmp_path, "name\nX\n")
    assert runner.invoke(args=["import", "nowhere", "accounts", path]).exit_code == 1
    assert runner.invoke(args=["import", "acme", "activities", path]).exit_code == 2


def test_export_to_stdout_and_to_a_file(runner, acme, tmp_path):
    make(acme, "contacts", last_name="王", first_name="小明", phone="+86 138 0013 8000")
    result = runner.invoke(args=["export", "acme", "contacts"])
    assert result.exit_code == 0, result.output
    assert parse_csv(result.stdout)[1][:4] == ["小明", "王", "", "'+86 138 0013 8000"]
    target = tmp_path / "contacts.csv"
    result = runner.invoke(args=["export", "acme", "contacts", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8-sig") == result_without_bom(runner)
    assert not (tmp_path / "contacts.csv.part").exists()


def result_without_bom(runner):
    return runner.invoke(args=["export", "acme", "contacts"]).stdout


def test_cli_export_then_import_round_trip(runner, acme, world, tmp_path):
    make(acme, "accounts", name="=Northwind", phone="+1 555 0100")
    target = tmp_path / "accounts.csv"
    assert runner.invoke(args=["export", "acme", "accounts", "-o", str(target)]).exit_code == 0
    beta = world.tenant("beta")
    result = runner.invoke(args=["import", "beta", "accounts", str(target)])
    assert result.exit_code == 0, result.output
    assert [(a.name, a.phone) for a in records(beta, Account)] == [("=Northwind", "+1 555 0100")]
    assert records(beta, Contact) == []
