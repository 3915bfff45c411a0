"""Languages: a member's language comes from their profile, else the browser; the English and
Simplified Chinese catalogues are complete, compiled, and in step with the code (docs/i18n.md).

The page tests assert Chinese text, so they fail when the compiled catalogue is missing or is not
found by the app, instead of passing on English fallbacks.
"""
from __future__ import annotations

import gettext
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from sqlalchemy import select
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from rapport import crm, tenancy
from rapport.db import db
from rapport.i18n import browser_locale
from rapport.models import Membership
from rapport.pipeline import Actor
from rapport.plugin_host import current_host, set_plugin_enabled
from rapport.provisioning import user_by_email
from rapport.tokens import create_token

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "rapport" / "translations"
POT = TRANSLATIONS / "messages.pot"
# Babel reads the profile's "zh_CN" as zh_Hans_CN, and looks for that directory.
ZH_PO = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
ZH_MO = ZH_PO.with_suffix(".mo")

ZH_BROWSER = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN_BROWSER = {"Accept-Language": "en-US"}
OWNER = "owner@acme.test"
SEED = Actor.operator("seed")


# --- fixtures and helpers ---------------------------------------------------------------------------
@pytest.fixture
def acme(world):
    """A tenant with the reports plugin on (its menu entry and dashboard panel are plugin strings)
    and a few records, so the dashboard shows counts, an open task and the pipeline."""
    tenant = world.tenant("acme", owner_email=OWNER, name="Acme")
    set_plugin_enabled(current_host(), tenant, "reports", True)
    with tenancy.tenant_scope(tenant.id):
        account = crm.create("accounts", {"name": "Globex Trading"}, SEED)
        crm.create("leads", {"name": "Big deal", "stage": "opportunity", "value": "1200.00",
                             "account_id": str(account.id)}, SEED)
        crm.create("activities", {"kind": "task", "subject": "Call back Globex",
                                  "due_at": "2030-01-31T10:00:00+00:00", "account_id": str(account.id)}, SEED)
        db.session.commit()
    return tenant


def set_profile_locale(email: str, locale: str | None) -> None:
    user_by_email(email).locale = locale
    db.session.commit()


def browsing(client, headers: dict):
    """Every later request of ``client`` sends these headers, as a browser does."""
    client.environ_base.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
    return client


def page(client, path: str, status: int = 200, **kwargs) -> str:
    response = client.get(path, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def html_lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


class _Texts(HTMLParser):
    """What a reader sees or hears: text nodes and the labelling attributes."""

    def __init__(self):
        super().__init__()
        self.texts: set[str] = set()
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")
        for name, value in attrs:
            if name in ("aria-label", "title", "placeholder", "data-label") and value:
                self.texts.add(value.strip())

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.add(" ".join(data.split()))


def visible_texts(html: str) -> set[str]:
    parser = _Texts()
    parser.feed(html)
    return parser.texts


# --- the member's language ------------------------------------------------------------------------
def test_a_profile_language_beats_the_browser_on_every_kind_of_page(client, world, acme):
    set_profile_locale(OWNER, "zh_CN")
    browsing(client, EN_BROWSER)
    world.login(client, OWNER)

    dashboard = page(client, "/t/acme/")
    assert html_lang(dashboard) == "zh-Hans-CN"
    assert "<h1>仪表盘</h1>" in dashboard and "待办任务" in dashboard and "退出登录" in dashboard
    assert "销售管道" in dashboard and "金额最大的进行中交易" in dashboard  # a plugin's panel and template

    accounts = page(client, "/t/acme/accounts")
    assert "<h1>客户</h1>" in accounts and "新建客户" in accounts and "负责人" in accounts
    assert "没有匹配的记录" not in accounts and "Globex Trading" in accounts

    roles = page(client, "/t/acme/admin/roles")
    assert "内置角色" in roles and "所有者" in roles
    assert "查看客户记录" in roles and "查看报表" in roles  # permission labels: the core's and a plugin's


def test_form_errors_are_in_the_members_language_including_marshmallows_own(client, world, acme):
    set_profile_locale(OWNER, "zh_CN")
    world.login(client, OWNER)
    response = client.post("/t/acme/accounts/new", data={"name": "", "email": "not-an-email", "phone": "call me"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请更正以下问题：" in html
    assert "此字段不能为空。" in html  # marshmallow: "Field may not be null."
    assert "不是有效的邮箱地址。" in html  # marshmallow: "Not a valid email address."
    assert "请输入电话号码" in html  # Rapport's own schema message
    assert "Not a valid email address" not in html and "may not be null" not in html


def test_plugin_settings_and_csv_import_errors_are_translated(client, world, acme):
    set_profile_locale(OWNER, "zh_CN")
    world.login(client, OWNER)
    settings = client.post("/t/acme/admin/plugins/reports/settings", data={"default_period_days": "0"})
    assert settings.status_code == 422
    assert "必须大于或等于 1，且小于或等于 366。" in settings.get_data(as_text=True)  # the plugin's marshmallow Range

    upload = {"record_type": "accounts", "file": (io.BytesIO(b"name,email\nInitech,not-an-email\n"), "a.csv")}
    report = client.post("/t/acme/import", data=upload, content_type="multipart/form-data")
    html = report.get_data(as_text=True)
    assert report.status_code == 422 and "未导入任何记录" in html and "不是有效的邮箱地址。" in html


def test_list_filter_errors_are_translated(client, world, acme):
    set_profile_locale(OWNER, "zh_CN")
    world.login(client, OWNER)
    html = page(client, "/t/acme/accounts?owner=somebody", status=400)
    assert "请使用成员 ID、&#39;me&#39; 或 &#39;none&#39;。" in html and "Use a member id" not in html


def test_error_pages_are_translated(client, world, acme):
    set_profile_locale(OWNER, "zh_CN")
    world.login(client, OWNER)
    html = page(client, "/t/acme/accounts/00000000-0000-0000-0000-000000000000", status=404)
    assert "404 · 未找到" in html and "Not Found" not in html


def test_without_a_profile_language_the_browser_decides(client, world, acme):
    world.login(client, OWNER)
    chinese = page(client, "/t/acme/", headers=ZH_BROWSER)
    assert html_lang(chinese) == "zh-Hans-CN" and "<h1>仪表盘</h1>" in chinese
    english = page(client, "/t/acme/", headers=EN_BROWSER)
    assert html_lang(english) == "en" and "<h1>Dashboard</h1>" in english and "仪表盘" not in english
    assert html_lang(page(client, "/t/acme/")) == "en"  # no Accept-Language: the default


def test_the_profile_language_select_changes_the_language(client, world, acme):
    browsing(client, EN_BROWSER)
    world.login(client, OWNER)
    profile = page(client, "/profile")
    assert '<option value="zh_CN">简体中文</option>' in profile and "Same as my browser" in profile

    saved = client.post("/profile", data={"name": "Olga", "locale": "zh_CN"}, follow_redirects=True)
    assert "个人资料已保存。" in saved.get_data(as_text=True)
    assert user_by_email(OWNER).locale == "zh_CN"
    assert html_lang(page(client, "/t/acme/")) == "zh-Hans-CN"
    assert '<option value="zh_CN" selected>' in page(client, "/profile")

    client.post("/profile", data={"name": "Olga", "locale": ""})
    assert user_by_email(OWNER).locale is None
    assert "<h1>Dashboard</h1>" in page(client, "/t/acme/")  # the browser's language again

    assert client.post("/profile", data={"name": "Olga", "locale": "xx"}).status_code == 400
    assert user_by_email(OWNER).locale is None


def test_the_login_page_follows_the_browser(client):
    chinese = page(client, "/login", headers=ZH_BROWSER)
    assert html_lang(chinese) == "zh-Hans-CN" and "<h1>登录</h1>" in chinese and "忘记密码？" in chinese
    refused = client.post("/login", data={"email": "nobody@x.test", "password": "wrong"}, headers=ZH_BROWSER)
    assert refused.status_code == 401 and "邮箱或密码错误。" in refused.get_data(as_text=True)
    english = page(client, "/login", headers=EN_BROWSER)
    assert html_lang(english) == "en" and "<h1>Log in</h1>" in english


@pytest.mark.parametrize("header, expected", [
    ("zh-CN,zh;q=0.9", "zh_CN"),
    ("zh", "zh_CN"),
    ("zh-Hans-CN", "zh_CN"),  # longer tags fall back to the language
    ("fr-FR, zh;q=0.5", "zh_CN"),
    ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
    ("fr-FR", None),  # the app's default then
    ("zh;q=0", None),
])
def test_browser_language_matching(header, expected):
    assert browser_locale(parse_accept_header(header, LanguageAccept), ["en", "zh_CN"]) == expected


def test_no_english_chrome_is_left_on_the_chinese_dashboard(client, world, acme):
    """Everything the English dashboard says that is not data must read differently in Chinese."""
    world.login(client, OWNER)
    english = visible_texts(page(client, "/t/acme/", headers=EN_BROWSER))
    chinese_html = page(client, "/t/acme/", headers=ZH_BROWSER)
    data = {"Rapport", "Acme", OWNER, "Globex Trading", "Big deal", "Call back Globex", "·", "/"}
    when = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC")  # times are written the same in every language
    same = {t for t in english & visible_texts(chinese_html)
            if t not in data and re.search(r"[A-Za-z]", t) and not when.fullmatch(t)}
    assert not same, f"untranslated on the Chinese dashboard: {sorted(same)}"
    for chrome in ("Dashboard", "Accounts", "Contacts", "Leads", "Activities", "Open tasks", "Log out",
                   "Skip to content", "Members", "Audit log", "API tokens", "Pipeline", "Largest open deals"):
        assert f">{chrome}<" not in chinese_html, chrome
    assert english, "the comparison saw the English page"


def test_api_validation_messages_follow_accept_language(client, world, acme):
    with tenancy.tenant_scope(acme.id):
        owner = db.session.scalar(select(Membership))  # the tenant's only member
        _row, secret = create_token(owner, "i18n test")
        db.session.commit()
    auth = {"Authorization": f"Bearer {secret}"}
    chinese = client.post("/t/acme/api/v1/accounts", json={"email": "bad"}, headers={**auth, **ZH_BROWSER})
    assert chinese.status_code == 422
    assert chinese.json["errors"] == {"email": ["不是有效的邮箱地址。"], "name": ["此字段为必填项。"]}
    english = client.post("/t/acme/api/v1/accounts", json={"email": "bad"}, headers=auth)
    assert english.json["errors"]["email"] == ["Not a valid email address."]


# --- the catalogues -------------------------------------------------------------------------------
def _catalog(path: Path):
    with path.open("rb") as fh:
        return read_po(fh)


def _keys(catalog) -> set[tuple[str | None, str]]:
    return {(m.context, m.id) for m in catalog if m.id}


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\(\w+\)[sdif]|\{\w+\}", text))


def test_every_message_has_a_reviewed_chinese_translation_with_its_placeholders():
    catalog = _catalog(ZH_PO)
    assert not catalog.fuzzy, "the catalogue header is marked fuzzy"
    problems = []
    for message in catalog:
        if not message.id:
            continue
        where = f"{message.context + ' | ' if message.context else ''}{message.id!r}"
        if not message.string:
            problems.append(f"untranslated: {where}")
        elif message.fuzzy:
            problems.append(f"fuzzy (review it, then remove the flag): {where}")
        elif _placeholders(message.id) != _placeholders(message.string):
            problems.append(f"placeholders differ: {where} -> {message.string!r}")
    assert not problems, "\n".join(problems)


def _extraction_command(output: Path) -> list[str]:
    """The Makefile's own `messages` extraction (same keywords), written to ``output``."""
    recipe = (ROOT / "Makefile").read_text().split("\nmessages:", 1)[1].split("\n\n", 1)[0]
    keywords = re.findall(r"-k (\S+)", recipe)
    assert "_l" in keywords and "lazy_gettext" in keywords, recipe
    args = ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-o", str(output)]
    for keyword in keywords:
        args += ["-k", keyword]
    return args + ["."]


def test_the_catalogues_are_up_to_date_with_the_code(tmp_path, monkeypatch):
    fresh = tmp_path / "fresh.pot"
    monkeypatch.chdir(ROOT)  # babel.cfg's patterns are relative to the repository root
    CommandLineInterface().run(_extraction_command(fresh))
    in_code, in_pot, in_po = _keys(_catalog(fresh)), _keys(_catalog(POT)), _keys(_catalog(ZH_PO))
    advice = "run `make messages`, then translate the new entries (docs/i18n.md)"
    assert in_code - in_pot == set(), f"strings missing from messages.pot: {sorted(in_code - in_pot)}; {advice}"
    assert in_pot - in_code == set(), f"messages.pot lists strings the code no longer has: {sorted(in_pot - in_code)}; {advice}"
    assert in_po == in_pot, f"the zh_Hans_CN catalogue differs from messages.pot: {sorted(in_po ^ in_pot)}; {advice}"


def test_the_compiled_catalogue_exists_and_matches_the_po_file():
    assert ZH_MO.exists(), f"{ZH_MO} is missing: run `make translations` (make test does it first)"
    with ZH_MO.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    stale = []
    for message in _catalog(ZH_PO):
        if not message.id or not message.string:
            continue
        got = compiled.pgettext(message.context, message.id) if message.context else compiled.gettext(message.id)
        if got != message.string:
            stale.append(message.id)
    assert not stale, f"messages.mo is older than messages.po ({len(stale)} differ): run `make translations`"


def test_the_app_finds_the_catalogue_directory(app):
    assert str(TRANSLATIONS) in app.extensions["babel"].translation_directories
