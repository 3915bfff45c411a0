"""Record lists: search, filters, sort, keyset paging, clear errors, owner names, constant queries."""
import datetime as dt
import html
import re

from rapport import tenancy
from rapport.db import db

from .conftest import reload, text


def names_in(response, record_type="accounts") -> list[str]:
    """Record names in the list's table, in order."""
    body = text(response).split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [html.unescape(n) for n in re.findall(rf'href="/t/\w+/{record_type}/[0-9a-f-]+">([^<]*)</a>', body)]


def next_link(response) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next">', text(response))
    return html.unescape(found.group(1)) if found else None


def test_list_search_by_name_email_and_phone(client, shop):
    shop.make("contacts", first_name="Nancy", last_name="Davolio", email="nancy@northwind.test")
    shop.make("contacts", first_name="Andrew", last_name="Fuller", phone="+1 206 555 9482")
    shop.make("contacts", first_name="Janet", last_name="Leverling")
    shop.login(client)
    assert names_in(client.get(shop.url("contacts?q=davol")), "contacts") == ["Nancy Davolio"]
    assert names_in(client.get(shop.url("contacts?q=NORTHWIND.test")), "contacts") == ["Nancy Davolio"]
    assert names_in(client.get(shop.url("contacts?q=555 9482")), "contacts") == ["Andrew Fuller"]
    page = client.get(shop.url("contacts?q=nobody-like-this"))
    assert page.status_code == 200 and "No records match." in text(page)
    assert 'value="nobody-like-this"' in text(page)  # the search box keeps what was typed


def test_filter_by_owner_me_unassigned_and_member_shows_owner_names(client, shop):
    shop.make("accounts", owner="manager", name="Managed")
    shop.make("accounts", owner="agent", name="Agent's")
    shop.make("accounts", name="Nobody's")
    shop.login(client, "manager")
    assert names_in(client.get(shop.url("accounts?owner=me"))) == ["Managed"]
    assert names_in(client.get(shop.url("accounts?owner=none"))) == ["Nobody's"]
    by_agent = client.get(shop.url(f"accounts?owner={shop.members['agent'].id}"))
    assert names_in(by_agent) == ["Agent's"]
    assert "Arthur Agent" in text(by_agent)
    everyone = text(client.get(shop.url("accounts")))
    assert "Mona Manager" in everyone and "Unassigned" in everyone
    # The owner filter offers this tenant's members by name.
    assert f'<option value="{shop.members["agent2"].id}">Bea Agent</option>' in everyone


def test_filter_leads_by_stage_and_activities_by_kind(client, shop):
    shop.make("leads", name="Cold", stage="target")
    shop.make("leads", name="Warm", stage="opportunity")
    shop.make("activities", kind="call", subject="Rang them")
    shop.make("activities", kind="task", subject="Send offer")
    shop.login(client)
    assert names_in(client.get(shop.url("leads?stage=opportunity")), "leads") == ["Warm"]
    assert names_in(client.get(shop.url("activities?kind=task")), "activities") == ["Send offer"]


def test_filter_by_created_dates_includes_both_days(client, shop):
    days = {"Old": dt.datetime(2025, 1, 10, 12), "Mid": dt.datetime(2025, 2, 15, 23, 30), "New": dt.datetime(2025, 3, 20, 8)}
    for name, when in days.items():
        record = shop.make("accounts", name=name)
        with tenancy.tenant_scope(shop.tenant.id):
            reload(record).created_at = when.replace(tzinfo=dt.timezone.utc)
            db.session.commit()
    shop.login(client)
    assert names_in(client.get(shop.url("accounts?created_from=2025-02-15&created_to=2025-02-15"))) == ["Mid"]
    assert names_in(client.get(shop.url("accounts?created_from=2025-02-01"))) == ["Mid", "New"]
    assert names_in(client.get(shop.url("accounts?created_to=2025-02-15"))) == ["Mid", "Old"]


def test_sortable_headers_switch_direction(client, shop):
    for name in ("Bravo", "Alpha", "Charlie"):
        shop.make("accounts", name=name)
    shop.login(client)
    page = client.get(shop.url("accounts"))
    assert names_in(page) == ["Alpha", "Bravo", "Charlie"]
    assert re.search(r'aria-sort="ascending">\s*<a href="[^"]*sort=-name', text(page))
    page = client.get(shop.url("accounts?sort=-name"))
    assert names_in(page) == ["Charlie", "Bravo", "Alpha"]
    assert 'aria-sort="descending"' in text(page)
    newest_first = client.get(shop.url("accounts?sort=-created_at"))
    assert names_in(newest_first) == ["Charlie", "Alpha", "Bravo"]


def test_paging_through_several_pages_with_next_and_first(client, shop):
    for i in range(12):
        shop.make("leads", name=f"Lead {i:02d}", stage="prospect")
    shop.make("leads", name="Filtered out", stage="lost")
    shop.login(client)
    url, seen, pages = shop.url("leads?stage=prospect&sort=name&limit=5"), [], 0
    while url:
        page = client.get(url)
        assert page.status_code == 200
        seen += names_in(page, "leads")
        pages += 1
        if pages > 1:  # later pages offer a way back to the first, keeping the filters
            first = re.search(r'<a href="([^"]+)" rel="first">', text(page))
            assert first and "cursor" not in first.group(1) and "stage=prospect" in first.group(1)
        url = next_link(page)
        assert url is None or ("stage=prospect" in url and "cursor=" in url)
    assert pages == 3
    assert seen == [f"Lead {i:02d}" for i in range(12)]


def test_invalid_parameters_show_a_clear_message(client, shop):
    shop.login(client)
    for query, label in (
        ("accounts?created_from=yesterday", "Created from"),
        ("accounts?created_to=31/01/2026", "Created to"),
        ("accounts?sort=password", "Sort"),
        ("accounts?cursor=garbage", "Page"),
        ("accounts?owner=someone", "Owner"),
        ("leads?stage=won", "Stage"),
        ("activities?kind=fax", "Kind"),
        ("contacts?limit=100000", "Rows per page"),
    ):
        page = client.get(shop.url(query))
        assert page.status_code == 400, query
        assert 'role="alert"' in text(page) and f">{label}</a>:" in text(page), query


def test_unknown_query_parameters_are_ignored(client, shop):
    shop.make("accounts", name="Still here")
    shop.login(client)
    page = client.get(shop.url("accounts?utm_source=newsletter"))
    assert page.status_code == 200 and names_in(page) == ["Still here"]


def test_a_page_costs_the_same_queries_for_few_or_many_rows(client, shop, sql_counter):
    """One query for the rows plus a fixed number of look-ups: never one per row."""
    owners = ["owner", "manager", "agent", "agent2", None]
    account = shop.make("accounts", name="Parent")
    for i in range(3):
        shop.make("contacts", owner=owners[i % 5], last_name=f"Few {i}", account_id=str(account.id))
    shop.login(client)
    client.get(shop.url("contacts?limit=50"))  # warms the compiled custom-field cache (one query per schema version)
    with sql_counter:
        assert client.get(shop.url("contacts?limit=50")).status_code == 200
    few = len(sql_counter.statements)
    for i in range(40):
        other = shop.make("accounts", name=f"Account {i}")
        shop.make("contacts", owner=owners[i % 5], last_name=f"Many {i}", account_id=str(other.id))
        shop.make("activities", owner=owners[i % 5], kind="call", subject=f"Call {i}", contact_id=None, account_id=str(other.id))
    with sql_counter:
        page = client.get(shop.url("contacts?limit=50"))
    assert len(names_in(page, "contacts")) == 43
    assert len(sql_counter.statements) == few
    with sql_counter:
        page = client.get(shop.url("activities?limit=50"))
    assert len(names_in(page, "activities")) == 40
    assert len(sql_counter.statements) <= few + 2


def test_list_markup_is_labelled_and_wraps_on_small_screens(client, shop):
    shop.make("accounts", name="Any")
    shop.login(client)
    body = text(client.get(shop.url("accounts")))
    assert '<div class="table-wrap" role="region"' in body and "<caption" in body
    for name in ("q", "owner", "created_from", "created_to"):
        assert f'<label for="f-{name}">' in body and f'id="f-{name}"' in body
    assert re.search(r'<td data-label="Name">', body)  # phone layout labels each cell
