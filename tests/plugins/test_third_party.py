"""A third-party plugin, installed for real with pip, loads like a built-in one and is switched per
tenant: ``rapport-hello`` (tests/plugins/third_party/) adds a page, a permission, a dashboard panel
and a menu entry."""
from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

from rapport.db import db
from rapport.plugin_host import current_host, save_plugin_settings
from tests.plugins.support import acting_in, logged_in, stored_state, switch

MENU_LINK = 'href="/t/{slug}/hello/">Hello<'


@pytest.fixture
def app_config(hello_installed):
    """Depending on the install makes ``app`` be built after rapport-hello is on sys.path."""
    return {}


def test_pip_installed_plugin_loads_through_its_entry_point(app, hello_installed):
    host = current_host()
    assert "hello" in host.plugin_names
    assert Path(host.pm.get_plugin("hello").__file__).is_relative_to(hello_installed)  # pip's copy
    [entry_point] = importlib.metadata.distribution("rapport-hello").entry_points
    assert (entry_point.group, entry_point.name, entry_point.value) == ("rapport", "hello", "rapport_hello")
    assert host.permissions["hello.greet"].plugin == "hello"
    assert {rule.rule: rule.endpoint for rule in app.url_map.iter_rules()}["/t/<tenant_slug>/hello/"] == "hello.greet"


def _sees_hello(client, slug: str, greeting: str, tenant_name: str) -> None:
    page = client.get(f"/t/{slug}/hello/")
    assert page.status_code == 200
    assert f"{greeting}, agent@{slug}.test!" in page.get_data(as_text=True)
    dashboard = client.get(f"/t/{slug}/").get_data(as_text=True)
    assert f"{greeting} from {tenant_name}!" in dashboard
    assert MENU_LINK.format(slug=slug) in dashboard


def _sees_no_hello(client, slug: str) -> None:
    assert client.get(f"/t/{slug}/hello/").status_code == 404
    dashboard = client.get(f"/t/{slug}/").get_data(as_text=True)
    assert "class='hello'" not in dashboard and "class=\"hello\"" not in dashboard
    assert MENU_LINK.format(slug=slug) not in dashboard


def test_hello_is_on_for_one_tenant_and_off_for_another(pair):
    alpha, beta = pair
    switch(alpha, "hello", True)
    in_alpha, in_beta = logged_in("agent@alpha.test"), logged_in("agent@beta.test")
    _sees_hello(in_alpha, "alpha", "Hello", "Alpha &amp; Co")  # the tenant's name arrives escaped
    _sees_no_hello(in_beta, "beta")

    switch(beta, "hello", True)
    with acting_in(beta):
        save_plugin_settings(current_host(), "hello", {"greeting": "Bonjour"})
        db.session.commit()
    _sees_hello(in_beta, "beta", "Bonjour", "Beta Ltd")  # the next request

    switch(beta, "hello", False)
    _sees_no_hello(in_beta, "beta")
    assert stored_state(beta, "hello").settings == {"greeting": "Bonjour"}  # kept for next time
    _sees_hello(in_alpha, "alpha", "Hello", "Alpha &amp; Co")  # alpha is untouched
