from rapport import create_app


def test_config_from_test_config(app):
    assert app.testing
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_secret_key_generated_into_instance_folder(tmp_path, monkeypatch, database):
    monkeypatch.delenv("RAPPORT_SECRET_KEY", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": database["url"]})
    key_file = tmp_path / "secret_key"
    assert key_file.exists() and app.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(app.config["SECRET_KEY"]) >= 40
    again = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": database["url"]})
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_healthz_and_readyz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["database"] == "ok"


def test_dashboard_redirects_to_login_when_anonymous(client, world):
    world.tenant("acme")
    response = client.get("/t/acme/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_owner_sees_dashboard(client, world):
    world.tenant("acme", owner_email="boss@acme.test")
    world.login(client, "boss@acme.test")
    response = client.get("/t/acme/")
    assert response.status_code == 200
    assert "Dashboard" in response.get_data(as_text=True)


def test_unknown_tenant_is_404(client):
    assert client.get("/t/nope/").status_code == 404
