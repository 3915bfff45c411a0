"""User-supplied text is escaped on every staff page that shows it."""
from .conftest import text

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_script_in_names_is_escaped_everywhere(client, shop):
    account = shop.make("accounts", name=SCRIPT, industry=SCRIPT)
    contact = shop.make("contacts", first_name=SCRIPT, last_name="X", title=SCRIPT, account_id=str(account.id))
    lead = shop.make("leads", name=SCRIPT, company=SCRIPT, source=SCRIPT, account_id=str(account.id))
    activity = shop.make("activities", kind="note", subject=SCRIPT, body=SCRIPT, account_id=str(account.id))
    shop.login(client, "manager")
    client.post(shop.url(f"accounts/{account.id}/edit"), data={"name": SCRIPT + "!", "industry": SCRIPT})
    pages = [
        "accounts", "contacts", "leads", "activities", "accounts?q=<script>",
        f"accounts/{account.id}", f"contacts/{contact.id}", f"leads/{lead.id}", f"activities/{activity.id}",
        f"accounts/{account.id}/edit", f"contacts/{contact.id}/edit", f"leads/{lead.id}/delete",
        f"activities/new?account_id={account.id}", f"contacts?account_id={account.id}",
    ]
    for path in pages:
        response = client.get(shop.url(path))
        assert response.status_code == 200, path
        assert SCRIPT not in text(response), path
        assert "alert(1)" in text(response), path  # the text is there, escaped
    assert ESCAPED in text(client.get(shop.url(f"accounts/{account.id}")))


def test_script_typed_into_a_failing_form_comes_back_escaped(client, shop):
    shop.login(client)
    response = client.post(shop.url("accounts/new"), data={"name": SCRIPT, "email": SCRIPT})
    assert response.status_code == 422
    assert SCRIPT not in text(response) and f'value="{ESCAPED}"' in text(response)
