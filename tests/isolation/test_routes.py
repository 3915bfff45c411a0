"""Every tenant URL of the app, walked from the URL map (so routes added later are covered too):
tenant A's owner gets nothing of tenant B's, whether they use B's path or A's path with B's ids."""
from __future__ import annotations

from tests.isolation.support import (
    build_path,
    is_api,
    missing_ids,
    object_variables,
    request,
    tenant_rules,
    unknown_variables,
)

# Tenant pages anyone may open without being a member. Each needs a reason; everything else must
# answer 404 (session) or 401 (API token) to a user of another tenant.
PUBLIC_ENDPOINTS = {
    "auth.accept_invite": "an invitation link is a capability: whoever holds B's link may open it",
    # A published lead form is public by design: anyone may open and submit it, logged in or not.
    # A's path with B's form slug must still answer like a form that does not exist (checked below).
    "lead_capture_public.show": "a published lead form is a public page",
    "lead_capture_public.submit": "a published lead form accepts submissions from anyone",
    "lead_capture_public.preflight": "CORS preflight of a public form",
    "lead_capture_public.embed_script": "the embed script of a public form",
    "lead_capture_public.static": "the public form's stylesheet and script (no tenant data)",
}


def test_url_map_has_tenant_routes(app):
    rules = [rule.rule for rule, _ in tenant_rules(app)]
    assert "/t/<tenant_slug>/" in rules and len(rules) > 5


def test_every_tenant_route_hides_other_tenants_objects(app, client, world, alpha, bravo):
    world.login(client, alpha.owner_email)
    api_client = app.test_client()  # bearer only: no session cookie on API calls
    failures = []
    for rule, methods in tenant_rules(app):
        unknown = unknown_variables(rule)
        if unknown:
            failures.append(
                f"{rule.rule}: URL variable(s) {sorted(unknown)} are not in the fill table of "
                "tests/isolation/support.py; add them there so this route is covered by the isolation test"
            )
            continue
        for method in methods:
            web = api_client if is_api(rule) else client
            failures += _check(web, rule, method, alpha, bravo)
    assert not failures, "\n".join(failures)


def _check(client, rule, method, alpha, bravo) -> list[str]:
    api = is_api(rule)
    bearer = alpha.token_secret if api else None
    failures = []
    if rule.endpoint not in PUBLIC_ENDPOINTS:
        # (a) B's path with B's ids: A's token is unknown in B (401); A's user is no member of B (404).
        path = build_path(rule, bravo.slug, bravo.url_values())
        response = request(client, method, path, api, bearer)
        failures += _verdict(method, path, response, {401} if api else {404}, bravo)
    if object_variables(rule):
        # (b) A's path with B's ids: B's objects answer exactly like objects that do not exist.
        path = build_path(rule, alpha.slug, bravo.url_values())
        response = request(client, method, path, api, bearer)
        expected = {404}
        if rule.endpoint in PUBLIC_ENDPOINTS:
            forged = request(client, method, build_path(rule, alpha.slug, missing_ids()), api, bearer)
            expected = {forged.status_code} & {404, 410}
        failures += _verdict(method, path, response, expected, bravo)
    return failures


def _verdict(method, path, response, expected, bravo) -> list[str]:
    failures = []
    if response.status_code not in expected:
        failures.append(f"{method} {path}: {response.status_code}, expected {sorted(expected)}")
    seen = response.get_data(as_text=True) + response.headers.get("Location", "")
    leaked = [secret for secret in bravo.secrets if secret in seen]
    if leaked:
        failures.append(f"{method} {path}: the answer shows tenant B's {leaked}")
    return failures
