"""The operator's command line: tenants, plugins, demo data."""
from sqlalchemy import func, select

from rapport import tenancy
from rapport.db import db
from rapport.models import Account, Contact, Lead, PluginState, Tenant


def run(runner, *args, input=None):
    return runner.invoke(args=list(args), input=input, catch_exceptions=False)


def test_tenants_create_list_suspend_resume(runner, client):
    result = run(runner, "tenants", "create", "globex", "--name", "Globex", "--owner-email", "hank@globex.test",
                 "--owner-password", "long enough pw")
    assert result.exit_code == 0, result.output
    assert "globex" in run(runner, "tenants", "list").output
    assert run(runner, "tenants", "suspend", "globex", "--reason", "Unpaid invoice").exit_code == 0
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "globex"))
    assert tenant.status == "suspended"
    client.post("/login", data={"email": "hank@globex.test", "password": "long enough pw"})
    page = client.get("/t/globex/")
    assert page.status_code == 403 and "Unpaid invoice" in page.get_data(as_text=True)
    assert run(runner, "tenants", "resume", "globex").exit_code == 0
    assert client.get("/t/globex/").status_code == 200


def test_tenants_create_rejects_bad_input(runner):
    result = runner.invoke(args=["tenants", "create", "Bad Slug!", "--name", "X", "--owner-email", "a@b.test",
                                 "--owner-password", "long enough pw"])
    assert result.exit_code != 0 and "slug" in result.output
    short = runner.invoke(args=["tenants", "create", "okslug", "--name", "X", "--owner-email", "a@b.test",
                                "--owner-password", "short"])
    assert short.exit_code != 0 and "password" in short.output
    assert db.session.scalar(select(func.count()).select_from(Tenant)) == 0


def test_tenants_delete_asks_then_removes_everything_of_that_tenant_only(runner, world):
    keep, gone = world.tenant("keep"), world.tenant("gone")
    assert run(runner, "demo").exit_code == 0
    aborted = runner.invoke(args=["tenants", "delete", "gone"], input="n\n")
    assert aborted.exit_code != 0 and db.session.get(Tenant, gone.id) is not None
    assert run(runner, "tenants", "delete", "gone", input="y\n").exit_code == 0
    db.session.expire_all()
    assert db.session.get(Tenant, gone.id) is None
    with tenancy.unscoped():
        owners = {t for (t,) in db.session.execute(select(Contact.tenant_id).distinct())}
    assert gone.id not in owners and db.session.get(Tenant, keep.id) is not None


def test_demo_is_idempotent_and_prints_login(runner):
    first = run(runner, "demo")
    assert "demo@rapport.example" in first.output and "created" in first.output
    demo = db.session.scalar(select(Tenant).where(Tenant.slug == "demo"))
    with tenancy.tenant_scope(demo.id):
        counts = [db.session.scalar(select(func.count()).select_from(m)) for m in (Account, Contact, Lead)]
        assert all(c > 0 for c in counts)
        second = run(runner, "demo")
        assert "already present" in second.output
        assert [db.session.scalar(select(func.count()).select_from(m)) for m in (Account, Contact, Lead)] == counts


def test_plugins_enable_disable_keeps_settings(runner, world):
    tenant = world.tenant("acme")
    assert run(runner, "plugins", "enable", "acme", "reports").exit_code == 0
    with tenancy.tenant_scope(tenant.id):
        state = db.session.scalar(select(PluginState).where(PluginState.plugin == "reports"))
        assert state.enabled
        state.settings = {"kept": True}
        db.session.commit()
    assert run(runner, "plugins", "disable", "acme", "reports").exit_code == 0
    with tenancy.tenant_scope(tenant.id):
        db.session.expire_all()
        state = db.session.scalar(select(PluginState).where(PluginState.plugin == "reports"))
        assert state.enabled is False and state.settings == {"kept": True}
    unknown = runner.invoke(args=["plugins", "enable", "acme", "nope"])
    assert unknown.exit_code != 0 and "no plugin" in unknown.output
