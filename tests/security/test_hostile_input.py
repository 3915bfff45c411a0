"""Hostile values through every input path of the core: staff forms, list search and filters, the
API (bodies, filters, custom filters and sorts), CSV import (web page and CLI) and custom-field
definitions (admin page and API).

Each value gets a clear 4xx that names the field (or the parameter), or it is stored and shown back
exactly as it was sent: through the API unchanged, on the record page HTML-escaped, in a CSV export
with formulas escaped. Never a 500 (in tests an exception escapes the app, and is counted as one).
The lead-capture forms are the plugin's own suite. A browser test (tests/browser/test_hostile_pages.py)
shows that stored script payloads do not run.
"""
from __future__ import annotations

import csv
import io
import json

import pytest
from markupsafe import escape

from tests.conftest import PASSWORD
from tests.security.support import stock

# Text that must be stored and shown as text, or refused naming the field.
TEXTS = {
    "img": '<img src=x onerror="window.__pwned=1">',
    "script": "<script>window.__pwned=1</script>",
    "attribute": '" autofocus onfocus="window.__pwned=1',
    "sql": "Robert'); DROP TABLE accounts;--",
    "sql_or": "' OR '1'='1' --",
    "json_path": "custom.x') OR 1=1--",
    "template": "{{7*7}} ${7*7} {% raw %}",
    "rtl": "\u202eexe.txt",
    "zero_width": "a\u200b\u200c\u200d\u2060b",
    "chinese": "北京客户关系管理有限公司",
    "emoji": "👩\u200d💻🚀🇨🇳",
    "formula": "=cmd|' /C calc'!A0",
    "formula_plus": "+SUM(1;2)",
    "formula_at": "@SUM(A1)",
    "date_zero": "0000-00-00",
    "date_feb30": "2024-02-30",
    "nul": "a\x00b",
    "long_10k": "長" * 10_000,
}
LONG_1M = "x" * 1_000_000
FORMULAS = {"formula", "formula_plus", "formula_at"}
# Raw JSON numbers a client can send (json.dumps cannot write most of them).
NUMBERS = {"huge": "1e309", "below_int64": str(-2**63 - 1), "nan": "NaN", "infinity": "Infinity",
           "minus_infinity": "-Infinity", "fraction": "2.5", "big_int": str(10**30)}
BAD_DATES = ("0000-00-00", "2024-02-30", "2024-13-01", "99999-01-01", "2024-02-30T25:61:00Z",
             "0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01")  # the last two: out of range in UTC
# Filter keys that try to reach into the JSON or the SQL.
FILTER_TRICKS = ("custom.x') OR 1=1--", "custom.__class__", "custom.tier' --", "custom.", "custom.tier__gte__lte",
                 "custom.tier;DROP TABLE accounts", "custom.$.tier", "custom.tier[0]", "custom.__proto__")
SORT_TRICKS = ("custom.__class__", "custom.x') OR 1=1--", "name; DROP TABLE accounts", "-custom.", "custom.notes",
               "--name", "custom.interests")

# Core text fields of each record type, and the custom text fields (key -> record type).
CORE_TEXT = {"accounts": ("name", "industry"), "contacts": ("first_name", "title"),
             "leads": ("name", "company", "source"), "activities": ("subject", "body")}
REQUIRED = {"accounts": {"name": "Hostile Co"}, "contacts": {"last_name": "Hostile"}, "leads": {"name": "Hostile lead"},
            "activities": {"kind": "note", "subject": "Hostile note"}}
CUSTOM_TEXT = {"code": "accounts", "notes": "leads"}
API_PROBLEMS = {400, 413, 415, 422}


@pytest.fixture
def alpha(app):
    return stock("alpha")


@pytest.fixture
def bravo(alpha):
    return stock("bravo")


class Probe:
    """Sends requests and keeps every answer that breaks the rule, instead of stopping at the first."""

    def __init__(self, client, slug: str, token: str | None = None):
        self.client, self.slug, self.token = client, slug, token
        self.failures: list[str] = []

    def api(self, method: str, path: str, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.send(method, f"/t/{self.slug}/api/v1{path}", headers=headers, **kwargs)

    def page(self, method: str, path: str, **kwargs):
        return self.send(method, f"/t/{self.slug}{path}", **kwargs)

    def send(self, method: str, url: str, **kwargs):
        try:
            return self.client.open(url, method=method, **kwargs)
        except Exception as exc:  # noqa: BLE001 - in tests a 500 escapes the app as its exception
            self.fail(f"{method} {url[:120]}: 500 ({type(exc).__name__}: {str(exc)[:200]})")
            return None

    def fail(self, message: str) -> None:
        self.failures.append(message)

    def refused_naming(self, response, field: str, what: str) -> bool:
        """True when the answer is a clear refusal: a 4xx problem, naming ``field`` when it is a 422."""
        if response is None:
            return True  # already counted
        if response.status_code not in API_PROBLEMS:
            return False
        body = response.get_json(silent=True) or {}
        if response.status_code == 422 and not any(k == field or k.startswith(f"{field}.") for k in body.get("errors", {})):
            self.fail(f"{what}: 422 without naming {field}: {body}")
        return True

    def check(self):
        assert not self.failures, f"{len(self.failures)} problems:\n" + "\n".join(self.failures[:60])


def _raw(body: dict, **raw_values: str) -> str:
    """JSON text with some values written raw (e.g. NaN, 1e309), which json.dumps would not write."""
    text = json.dumps({**body, **{k: f"@@{k}@@" for k in raw_values}})
    for key, raw in raw_values.items():
        text = text.replace(f'"@@{key}@@"', raw)
    return text


def _log_in(client, email: str) -> None:
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


# -- API -------------------------------------------------------------------------------------------


def test_api_text_fields_store_hostile_text_exactly_or_name_the_field(client, alpha):
    probe = Probe(client, "alpha", alpha.api_tokens["owner"])
    for record_type, fields_ in CORE_TEXT.items():
        for field in fields_:
            for name, value in TEXTS.items():
                what = f"POST /{record_type} {field}={name}"
                created = probe.api("POST", f"/{record_type}", json={**REQUIRED[record_type], field: value})
                _stored_or_refused(probe, created, record_type, field, value, what)
                patched = probe.api("PATCH", f"/{record_type}/{alpha.records[record_type]}", json={field: value})
                _stored_or_refused(probe, patched, record_type, field, value, f"PATCH {what}")
    probe.check()


def test_api_custom_text_fields_store_hostile_text_exactly_or_name_the_field(client, alpha):
    probe = Probe(client, "alpha", alpha.api_tokens["owner"])
    for key, record_type in CUSTOM_TEXT.items():
        for name, value in TEXTS.items():
            response = probe.api("POST", f"/{record_type}", json={**REQUIRED[record_type], "custom": {key: value}})
            what = f"POST /{record_type} custom.{key}={name}"
            if probe.refused_naming(response, f"custom.{key}", what):
                continue
            if response.status_code != 201:
                probe.fail(f"{what}: {response.status_code}")
                continue
            stored = probe.api("GET", f"/{record_type}/{response.get_json()['id']}").get_json()["custom"].get(key)
            if stored != value:
                probe.fail(f"{what}: read back {stored!r:.80}")
    probe.check()


def _stored_or_refused(probe, response, record_type, field, value, what) -> None:
    if response is None or probe.refused_naming(response, field, what):
        return
    if response.status_code not in (200, 201):
        probe.fail(f"{what}: {response.status_code} {response.get_data(as_text=True)[:200]}")
        return
    record_id = response.get_json()["id"]
    stored = probe.api("GET", f"/{record_type}/{record_id}").get_json()[field]
    if stored != value:
        probe.fail(f"{what}: read back {stored!r:.80} for {value!r:.80}")


def test_api_refuses_over_long_nested_and_undecodable_bodies(client, alpha):
    probe = Probe(client, "alpha", alpha.api_tokens["owner"])
    account = alpha.records["accounts"]
    long_name = probe.api("POST", "/accounts", json={"name": LONG_1M})
    if not probe.refused_naming(long_name, "name", "1M name"):
        probe.fail(f"1M name: {long_name.status_code}")
    nested = "[" * 10_000 + "]" * 10_000
    for body in (f'{{"name": {nested}}}', f'{{"name": "n", "custom": {{"code": {nested}}}}}', nested,
                 '{"a":' * 10_000 + "1" + "}" * 10_000):
        for method, path in (("POST", "/accounts"), ("PATCH", f"/accounts/{account}"), ("POST", "/fields/accounts")):
            response = probe.api(method, path, data=body, content_type="application/json")
            if response is not None and response.status_code not in (400, 413, 422):
                probe.fail(f"{method} {path} nested {len(body)} bytes: {response.status_code}")
    for raw in (b'{"name": "\xff\xfe"}', b"\xc3\x28", b'{"name": "a\xed\xa0\x80b"}', b'{"name": "\\ud800"}',
                b'{"name": "x", "custom": {"code": "\\udfff"}}', b'{"name": "a\\u0000b"}'):
        response = probe.api("POST", "/accounts", data=raw, content_type="application/json")
        if response is not None and response.status_code not in (400, 422):
            probe.fail(f"POST /accounts {raw[:40]!r}: {response.status_code}")
    wrong_type = probe.api("POST", "/accounts", data="name=x", content_type="application/x-www-form-urlencoded")
    if wrong_type is not None and wrong_type.status_code != 415:
        probe.fail(f"form-encoded body: {wrong_type.status_code}")
    probe.check()


def test_api_numbers_out_of_range_and_impossible_dates_are_refused(client, alpha):
    probe = Probe(client, "alpha", alpha.api_tokens["owner"])
    lead = alpha.records["leads"]
    for name, raw in NUMBERS.items():
        for field, body in (("value", {"name": "n"}), ("custom.budget", {"name": "n", "custom": {}}),
                            ("custom.seats", None)):
            if field == "custom.seats":
                text = _raw({"name": "n"}).replace("}", ', "custom": {"seats": ' + raw + "}}")
                path = "/accounts"
            elif field == "custom.budget":
                text = _raw({"name": "n"}).replace("}", ', "custom": {"budget": ' + raw + "}}")
                path = "/leads"
            else:
                text, path = _raw(body, value=raw), "/leads"
            response = probe.api("POST", path, data=text, content_type="application/json")
            what = f"POST {path} {field}={name}"
            if response is None:
                continue
            if name == "fraction" and response.status_code == 201:
                continue  # 2.5 is a fine amount
            if not probe.refused_naming(response, field, what):
                probe.fail(f"{what}: {response.status_code} {response.get_data(as_text=True)[:150]}")
    for bad in BAD_DATES:
        for path, body, field in (("/accounts", {"name": "n", "custom": {"renewal": bad}}, "custom.renewal"),
                                  ("/leads", {"name": "n", "custom": {"met_at": bad}}, "custom.met_at"),
                                  ("/activities", {"kind": "task", "subject": "s", "due_at": bad}, "due_at"),
                                  (f"/leads/{lead}", {"custom": {"met_at": bad}}, "custom.met_at")):
            method = "PATCH" if path.count("/") > 1 else "POST"
            response = probe.api(method, path, json=body)
            if not probe.refused_naming(response, field, f"{method} {path} {field}={bad}"):
                probe.fail(f"{method} {path} {field}={bad}: {response.status_code}")
    probe.check()


def test_api_filters_sorts_and_search_take_hostile_text(client, alpha, bravo):
    probe = Probe(client, "alpha", alpha.api_tokens["owner"])
    for record_type in ("accounts", "contacts", "leads", "activities"):
        for name, value in [*TEXTS.items(), ("long_1m", LONG_1M[:100_000])]:
            for param in ("q", "owner", "created_after", "sort", "cursor", "limit"):
                _list_answer(probe, record_type, {param: value}, param, bravo, f"{record_type}?{param}={name}")
    for record_type in ("accounts", "contacts", "leads"):
        for trick in FILTER_TRICKS:
            _list_answer(probe, record_type, {trick: "1"}, trick, bravo, f"{record_type}?{trick}=1")
        for trick in SORT_TRICKS:
            _list_answer(probe, record_type, {"sort": trick}, "sort", bravo, f"{record_type}?sort={trick}")
    for key, value in (("custom.code", TEXTS["sql_or"]), ("custom.code__contains", "%_\\"), ("custom.tier", "gold' OR 1=1"),
                       ("custom.seats__gte", "1e309"), ("custom.seats__lte", "NaN"), ("custom.renewal__gte", "0000-00-00"),
                       ("custom.renewal", "2024-02-30"), ("custom.tier__in", "gold," * 500), ("custom.code__empty", "maybe"),
                       ("custom.code", "a\x00b"), ("custom.interests", "crm') OR 1=1--")):
        record_type = "accounts" if key.split(".")[1].split("__")[0] in ("code", "tier", "seats", "renewal") else "contacts"
        _list_answer(probe, record_type, {key: value}, key, bravo, f"{record_type}?{key}={value[:30]!r}")
    # Invalid UTF-8 in a query string is decoded with replacement characters: text like any other.
    response = probe.send("GET", "/t/alpha/api/v1/accounts?q=%FF%FE%ED%A0%80", headers={"Authorization": f"Bearer {alpha.api_tokens['owner']}"})
    if response is not None and response.status_code != 200:
        probe.fail(f"invalid UTF-8 query: {response.status_code}")
    probe.check()


def _list_answer(probe, record_type, query, param, bravo, what) -> None:
    response = probe.api("GET", f"/{record_type}", query_string=query)
    if response is None:
        return
    if bravo.marker in response.get_data(as_text=True):
        probe.fail(f"{what}: the answer shows the other tenant's data")
    if response.status_code != 200 and not probe.refused_naming(response, param, what):
        probe.fail(f"{what}: {response.status_code}")


# -- staff forms -----------------------------------------------------------------------------------


FORM_TEXT = {"accounts": ("name", "industry", "custom.code"), "contacts": ("last_name", "title"),
             "leads": ("name", "company", "custom.notes"), "activities": ("subject", "body")}
FORM_REQUIRED = {"accounts": {"name": "Hostile Co"}, "contacts": {"last_name": "Hostile"},
                 "leads": {"name": "Hostile lead", "stage": "target"}, "activities": {"kind": "note", "subject": "Hostile note"}}


def test_staff_forms_show_hostile_text_escaped_or_name_the_field(app, client, alpha):
    _log_in(client, alpha.data.owner_email)
    probe = Probe(client, "alpha")
    for record_type, fields_ in FORM_TEXT.items():
        for field in fields_:
            for name, value in [*TEXTS.items(), ("long_1m", LONG_1M)]:
                what = f"new {record_type} {field}={name}"
                response = probe.page("POST", f"/{record_type}/new", data={**FORM_REQUIRED[record_type], field: value})
                if response is None:
                    continue
                html = response.get_data(as_text=True)
                if response.status_code == 413:
                    continue  # the whole post is over the form size limit: refused before any field
                if response.status_code in (400, 422):
                    if "<img src=x" in html or "<script>window" in html:
                        probe.fail(f"{what}: the error page shows the value unescaped")
                    if 'class="error"' not in html and "error" not in html:
                        probe.fail(f"{what}: {response.status_code} without a reason")
                    continue
                if response.status_code != 302:
                    probe.fail(f"{what}: {response.status_code}")
                    continue
                _shown_escaped(probe, client, response.headers["Location"], value, what)
                _shown_escaped(probe, client, response.headers["Location"] + "/edit", value, what + " (edit form)")
    probe.check()


def _shown_escaped(probe, client, url: str, value: str, what: str) -> None:
    page = probe.send("GET", url)
    if page is None:
        return
    html = page.get_data(as_text=True)
    if page.status_code != 200:
        probe.fail(f"{what}: {url} answered {page.status_code}")
    elif str(escape(value)) not in html:
        probe.fail(f"{what}: {url} does not show the value as escaped text")
    elif ("<" in value or '"' in value) and value in html:
        probe.fail(f"{what}: {url} shows the value unescaped")


def test_staff_lists_take_hostile_search_and_filters(app, client, alpha, bravo):
    _log_in(client, alpha.data.owner_email)
    probe = Probe(client, "alpha")
    for record_type in ("accounts", "contacts", "leads", "activities"):
        for name, value in TEXTS.items():
            for param in ("q", "owner", "created_from", "sort", "cursor", "custom.tier", "custom.seats__gte"):
                response = probe.page("GET", f"/{record_type}", query_string={param: value})
                if response is None:
                    continue
                html = response.get_data(as_text=True)
                if response.status_code not in (200, 400):
                    probe.fail(f"{record_type}?{param}={name}: {response.status_code}")
                if "<img src=x" in html or "<script>window" in html or bravo.marker in html:
                    probe.fail(f"{record_type}?{param}={name}: unescaped echo or another tenant's data")
        for trick in FILTER_TRICKS:
            response = probe.page("GET", f"/{record_type}", query_string={trick: "1", "sort": trick})
            if response is not None and response.status_code not in (200, 400):
                probe.fail(f"{record_type}?{trick}: {response.status_code}")
    probe.check()


# -- CSV import and export -------------------------------------------------------------------------


def _csv_file(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _hostile_rows(prefix: str) -> list[dict]:
    return [{"name": f"{prefix} {name}", "industry": value[:100] if name != "long_10k" else value, "custom.code": value[:12].strip()}
            for name, value in TEXTS.items()]


def _imported(probe, prefix: str) -> dict[str, dict]:
    """The accounts whose name starts with ``prefix``, by name (read back through the API)."""
    found, cursor = {}, None
    while True:
        query = {"q": prefix, "limit": 200, **({"cursor": cursor} if cursor else {})}
        page = probe.api("GET", "/accounts", query_string=query).get_json()
        found.update({item["name"]: item for item in page["items"]})
        cursor = page["next_cursor"]
        if not cursor:
            return found


def _check_import(probe, prefix: str, rows: list[dict]) -> None:
    stored = _imported(probe, prefix)
    for row in rows:
        item = stored.get(row["name"])
        if item is None:
            if "\x00" not in row["industry"] and len(row["industry"]) <= 100:
                probe.fail(f"import {row['name']!r}: a good row was not imported")
            continue
        if item["industry"] != row["industry"] or item["custom"].get("code") != row["custom.code"]:
            probe.fail(f"import {row['name']!r}: read back {item['industry']!r:.60} / {item['custom'].get('code')!r}")


def test_csv_import_page_stores_hostile_cells_exactly_or_reports_them(client, alpha):
    _log_in(client, alpha.data.owner_email)
    probe = Probe(client, "alpha", alpha.api_tokens["owner"])
    rows = _hostile_rows("webcsv")
    response = probe.page("POST", "/import", data={
        "record_type": "accounts", "good_rows_only": "y", "file": (io.BytesIO(_csv_file(rows)), "hostile.csv")},
        content_type="multipart/form-data")
    assert response is not None and response.status_code == 200, response and response.get_data(as_text=True)[:500]
    html = response.get_data(as_text=True)
    assert "<img src=x" not in html and "<script>window" not in html
    _check_import(probe, "webcsv", rows)
    for raw, reason in ((b"name\n\xff\xfe bad\n", "not valid UTF-8"), (b"name,\x00evil\nx,y\n", "Unknown columns"),
                        (b"", "empty")):
        response = probe.page("POST", "/import", data={"record_type": "accounts", "file": (io.BytesIO(raw), "bad.csv")},
                              content_type="multipart/form-data")
        if response is not None and (response.status_code != 422 or reason not in response.get_data(as_text=True)):
            probe.fail(f"import of {raw[:20]!r}: {response.status_code}, expected 422 saying {reason!r}")
    probe.check()


def test_csv_import_command_stores_hostile_cells_exactly_or_reports_them(app, client, runner, alpha, tmp_path):
    probe = Probe(client, "alpha", alpha.api_tokens["owner"])
    rows = _hostile_rows("clicsv")
    path = tmp_path / "hostile.csv"
    path.write_bytes(_csv_file(rows))
    result = runner.invoke(args=["import", "alpha", "accounts", str(path), "--good-rows-only"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "line" in result.output and "nul" in result.output.lower() or "NUL" in result.output, result.output
    _check_import(probe, "clicsv", rows)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"name\n\xff\xfe\n")
    result = runner.invoke(args=["import", "alpha", "accounts", str(bad)])
    assert result.exit_code != 0 and "not valid UTF-8" in result.output
    probe.check()


def test_csv_export_escapes_formulas_and_keeps_text(client, alpha):
    probe = Probe(client, "alpha", alpha.api_tokens["owner"])
    for name in ("formula", "formula_plus", "formula_at", "chinese", "emoji", "img"):
        created = probe.api("POST", "/accounts", json={"name": f"export {name}", "industry": TEXTS[name][:100],
                                                        "custom": {"code": TEXTS[name][:12]}})
        assert created.status_code == 201, created.get_data(as_text=True)
    _log_in(client, alpha.data.owner_email)
    response = client.get("/t/alpha/export/accounts.csv")
    assert response.status_code == 200
    rows = {row["name"]: row for row in csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")))}
    for name in ("formula", "formula_plus", "formula_at", "chinese", "emoji", "img"):
        row = rows[f"export {name}"]
        expected = TEXTS[name][:100]
        if name in FORMULAS:
            assert row["industry"] == "'" + expected and row["custom.code"] == "'" + TEXTS[name][:12], row
        else:
            assert row["industry"] == expected, row


# -- custom-field definitions ----------------------------------------------------------------------


def test_field_definitions_api_stores_hostile_labels_exactly_or_names_them(client, alpha):
    probe = Probe(client, "alpha", alpha.api_tokens["owner"])
    for index, (name, value) in enumerate(TEXTS.items()):
        body = {"key": f"hostile_{index}", "label": value, "help_text": value, "type": "select",
                "options": [{"value": f"v{index}", "label": value}]}
        response = probe.api("POST", "/fields/accounts", json=body)
        what = f"POST /fields/accounts label={name}"
        if response is None or probe.refused_naming(response, "label", what) and response.status_code == 422:
            errors = response.get_json()["errors"] if response is not None else {}
            if response is not None and not set(errors) & {"label", "help_text", "options"}:
                probe.fail(f"{what}: refused without naming label, help_text or options: {errors}")
            continue
        if response.status_code != 201:
            probe.fail(f"{what}: {response.status_code}")
            continue
        stored = probe.api("GET", f"/fields/accounts/hostile_{index}").get_json()
        if (stored["label"], stored["help_text"], stored["options"][0]["label"]) != (value, value, value):
            probe.fail(f"{what}: read back differently")
    for key in ("x') OR 1=1--", "__class__", "custom.x", "a" * 65, "Tier", "名字", "tier\x00", "id", ""):
        response = probe.api("POST", "/fields/accounts", json={"key": key, "label": "L", "type": "text"})
        if not probe.refused_naming(response, "key", f"key={key!r}") or response.status_code != 422:
            probe.fail(f"key={key!r}: {response.status_code if response else 'raised'}, expected 422 naming key")
    for bad in ({"type": "<script>"}, {"type": ["text"]}, {"options": "gold"}, {"options": [{"value": "A B", "label": "x"}]},
                {"config": {"max_length": 1e309}}, {"config": {"pattern": "(a+)+$" * 100}}, {"default": {"$ne": 1}},
                {"roles": ["<img src=x>"] * 5}, {"position": -2**63 - 1}, {"show_in": {"portal": "<b>"}}):
        body = {"key": "probe_field", "label": "Probe", "type": "text", **bad}
        response = probe.api("POST", "/fields/accounts", json=body)
        if response is not None and response.status_code == 201:
            probe.api("DELETE", "/fields/accounts/probe_field", query_string={"confirm": "probe_field"})
        elif response is not None and response.status_code not in API_PROBLEMS:
            probe.fail(f"definition {bad}: {response.status_code}")
    probe.check()


def test_field_admin_page_shows_hostile_labels_escaped(client, alpha):
    _log_in(client, alpha.data.owner_email)
    probe = Probe(client, "alpha")
    for index, (name, value) in enumerate(TEXTS.items()):
        data = {"key": f"page_{index}", "label": value, "help_text": value, "type": "select",
                "option_value": [f"v{index}"], "option_label": [value], "show_in.staff": "y", "show_in.api": "y"}
        response = probe.page("POST", "/admin/fields/accounts/new", data=data)
        what = f"admin new field label={name}"
        if response is None:
            continue
        html = response.get_data(as_text=True)
        if response.status_code == 422:
            if "<img src=x" in html or "<script>window" in html:
                probe.fail(f"{what}: the error page shows the value unescaped")
            continue
        if response.status_code != 302:
            probe.fail(f"{what}: {response.status_code}")
            continue
        _shown_escaped(probe, client, "/t/alpha/admin/fields/accounts", value, what)
        _shown_escaped(probe, client, "/t/alpha/accounts/new", value, what + " (record form)")
    probe.check()


def test_field_admin_page_refuses_hostile_settings_by_name(client, alpha):
    _log_in(client, alpha.data.owner_email)
    probe = Probe(client, "alpha")
    base = {"key": "settings_probe", "label": "Probe", "show_in.staff": "y"}
    for extra, field in (({"type": "text", "text.pattern": "a\x00b"}, "pattern"),
                         ({"type": "text", "text.pattern": "(unclosed"}, "pattern"),
                         ({"type": "text", "text.max_length": "1e309"}, "max_length"),
                         ({"type": "text", "roles": "owner\x00"}, "roles"),
                         ({"type": "number", "number.min": "nan"}, "min"),
                         ({"type": "number", "number.max": "1e309"}, "max"),
                         ({"type": "date", "date.min": "0000-00-00"}, "min"),
                         ({"type": "date", "date.max": "2024-02-30"}, "max"),
                         ({"type": "select", "option_value": "A B", "option_label": "x"}, "option"),
                         ({"type": "text", "default": "a\x00b"}, "default"),
                         ({"type": "<script>", "label": "x"}, "type")):
        response = probe.page("POST", "/admin/fields/accounts/new", data={**base, **extra})
        if response is None:
            continue
        html = response.get_data(as_text=True)
        if response.status_code != 422:
            probe.fail(f"admin field {extra}: {response.status_code}, expected 422")
        elif "<script>" in html:
            probe.fail(f"admin field {extra}: the value is shown unescaped")
    probe.check()
