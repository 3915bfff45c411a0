"""schemathesis against each tenant's own OpenAPI document (custom fields of every kind included),
authenticated with that tenant's token, in-process against the WSGI app.

Every generated request, valid or not, must get an answer that is not a 5xx, that its operation
documents (status code, content type, headers, body schema), and that shows nothing of the other
tenant: tenant B's records carry a marker string that must never appear in an answer to tenant A.

The budget: ``RAPPORT_SCHEMATHESIS_REQUESTS`` requests in total, by default 5,200 in CI (CI=true) and
600 elsewhere. It is spread over the operations of both tenants' documents, in positive and negative
mode, with path parameters drawn at random, set to the tenant's own objects, and set to the other
tenant's objects (which must answer 404, never the object).

Two phases keep the schema check honest: records, lists, plugins and field reads run first against a
document whose custom fields stay fixed; the operations that change field definitions (and so the
document itself) run afterwards, checked against their own stable schemas.
"""
from __future__ import annotations

import os
import traceback
from collections import Counter
from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from rapport import crm, tenancy
from rapport.db import db
from rapport.pipeline import Actor
from tests.security.support import Stocked, stock

CI = os.environ.get("CI", "").lower() == "true"
BUDGET = int(os.environ.get("RAPPORT_SCHEMATHESIS_REQUESTS") or (5200 if CI else 600))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, ignored_auth]
# Requests without credentials are the access matrix's business (test_access_matrix.py): here every
# request carries the tenant's token, so the budget goes to bodies, queries and paths.
CONFIG = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})


@dataclass
class Tally:
    """Requests sent, by operation and status, and what failed."""

    sent: Counter
    statuses: Counter
    failures: list
    failed: set


@dataclass(frozen=True)
class Side:
    """A stocked tenant, plus one more record of each type for DELETE to remove."""

    stocked: Stocked
    victims: dict

    def __getattr__(self, name):
        return getattr(self.stocked, name)


def _victims(stocked: Stocked) -> dict:
    with tenancy.tenant_scope(stocked.tenant_id):
        actor = Actor("operator", None, "test", "cli")
        made = {
            "accounts": crm.create("accounts", {"name": f"Victim {stocked.marker}"}, actor),
            "contacts": crm.create("contacts", {"last_name": f"Victim {stocked.marker}"}, actor),
            "leads": crm.create("leads", {"name": f"Victim {stocked.marker}"}, actor),
            "activities": crm.create("activities", {"kind": "call", "subject": f"Victim {stocked.marker}"}, actor),
        }
        db.session.commit()
        return {record_type: record.id for record_type, record in made.items()}


@pytest.fixture
def tenants(app):
    sides = {}
    for slug in ("alpha", "bravo"):
        stocked = stock(slug)
        sides[slug] = Side(stocked, _victims(stocked))
    return sides


def _changes_the_document(operation) -> bool:
    """Operations that change field definitions change the tenant's document as they run."""
    return operation.path.startswith("/fields/") and operation.method.upper() != "GET"


CORE_PATHS = ("/accounts", "/contacts", "/leads", "/activities", "/plugins", "/fields/")


def _operations(schema):
    """The core's operations (plugins' own API paths have their own suites)."""
    operations = [result.ok() for result in schema.get_all_operations()]
    return [op for op in operations if op.path.startswith(CORE_PATHS)]


ID_PARAMS = {"account_id": "accounts", "contact_id": "contacts", "lead_id": "leads", "activity_id": "activities"}


@dataclass(frozen=True)
class Variant:
    """How an operation is fuzzed: which path parameters and query parameters are fixed."""

    label: str
    path: dict
    query: dict | None = None

    @property
    def weight(self) -> int:
        return WEIGHTS[self.label]


def _variants(operation, own, other) -> list[Variant]:
    """Path parameters drawn at random, set to the tenant's own objects, and set to the other
    tenant's objects, which must answer exactly like objects that do not exist; lists also get
    filters naming the other tenant's records and members, which must match nothing."""
    names = {p.name for p in operation.path_parameters}
    if not names:
        variants = [Variant("any", {})]
        foreign_filters = _foreign_filters(operation, other)
        if foreign_filters:
            variants.append(Variant("other", {}, foreign_filters))
        return variants
    ids = names & set(ID_PARAMS)
    # DELETE gets records of its own, so the other operations keep theirs to work on.
    records = own.victims if operation.method.upper() == "DELETE" else own.stocked.records
    fixed = {name: str(records[ID_PARAMS[name]]) for name in ids}
    fixed.update({"record_type": "leads", "field_key": "notes", "plugin": "reports"})
    variants = [Variant("random", {}), Variant("own", {name: fixed[name] for name in names})]
    if ids:
        variants.append(Variant("other", {name: str(other.stocked.records[ID_PARAMS[name]]) for name in ids}))
    return variants


def _foreign_filters(operation, other) -> dict:
    """The list's reference filters, each naming a record or member of the other tenant."""
    if operation.method.upper() != "GET":
        return {}
    available = {p.name for p in operation.query}
    values = {name: str(other.stocked.records[ID_PARAMS[name]]) for name in ID_PARAMS if name in available}
    if "owner" in available:
        values["owner"] = str(other.stocked.members["agent"])
    return values


def _fuzz(operation, mode, variant: Variant, examples, token, foreign_markers, tally) -> None:
    label = f"{operation.method.upper()} {operation.path} [{mode.value}]"
    if variant.path or variant.query:
        label += f" {variant.label} {variant.path or variant.query}"
    headers = {"Authorization": f"Bearer {token}"}

    @settings(max_examples=examples, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate, Phase.shrink])
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=variant.path or None,
                                      query=variant.query))
    def run(case):
        response = case.call(headers=headers)
        tally.sent[label] += 1
        tally.statuses[response.status_code] += 1
        # Invalid input must be refused; but an empty value means "not given" (docs/api.md), by design.
        checks = CHECKS if _has_blank(case) else [*CHECKS, negative_data_rejection]
        case.validate_response(response, checks=checks, headers=headers)
        shown = response.text
        for marker in foreign_markers:
            assert marker not in shown, f"another tenant's data ({marker}) in the answer"

    try:
        run()
    except Unsatisfiable:
        pass  # negative mode, and nothing of the operation can be made invalid (fixed path, no body)
    except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collected and reported together at the end
        if label not in tally.failed:  # a later pass over the same input space finds the same
            tally.failed.add(label)
            tally.failures.append(f"{label}: {_describe(exc)}")


def _has_blank(case) -> bool:
    """A value the API reads as "not given" (docs/api.md): text that is empty once trimmed, an empty
    custom value, or an empty object or list in a query string, which goes on the wire as nothing."""
    body = case.body if isinstance(case.body, dict) else {}
    custom = body.get("custom") if isinstance(body.get("custom"), dict) else {}
    query = case.query or {}
    return (any(isinstance(value, str) and not value.strip() for value in body.values())
            or any(value == "" for value in custom.values())
            or any(_blank_on_the_wire(value) for value in query.values()))


def _blank_on_the_wire(value) -> bool:
    """An empty string, object or list, or a list of such (``[""]`` goes as ``name=``)."""
    return value in ("", {}, []) or (isinstance(value, list) and all(item in ("", {}, []) for item in value))


def _describe(exc: BaseException) -> str:
    """A check failure explains itself; an exception that escaped the app needs its traceback."""
    if isinstance(exc, BaseExceptionGroup) or isinstance(exc, AssertionError):
        return f"{type(exc).__name__}: {str(exc)[:3000]}"
    return "".join(traceback.format_exception(exc))[-3000:]


# How much of the budget each kind of request gets: random ids mostly meet 404, so a tenant's own
# objects and the collections get more; the other tenant's ids only have to be refused.
WEIGHTS = {"any": 3, "own": 3, "random": 1, "other": 1}
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
MAX_PASSES = 4


def _plan(schema, own, other, phase: str) -> list[tuple]:
    ops = [op for op in _operations(schema) if _changes_the_document(op) == (phase == "fields")]
    return [(op, mode, variant) for op in ops for variant in _variants(op, own, other) for mode in MODES
            if mode is GenerationMode.POSITIVE or _can_be_invalid(op, variant)]


def _can_be_invalid(operation, variant: Variant) -> bool:
    """Negative mode needs something to break: a body, a query or header parameter, or a free path one."""
    free_path = [p for p in operation.path_parameters if p.name not in variant.path and _constrained(p.definition)]
    free_query = [p for p in operation.query if p.name not in (variant.query or {})]
    return bool(len(operation.body) or free_query or len(operation.headers) or free_path)


def _constrained(parameter: dict) -> bool:
    """A path parameter that any string satisfies cannot be made invalid (hypothesis would give up)."""
    schema = parameter.get("schema", {})
    return bool({"format", "pattern", "enum"} & set(schema))  # minLength 1: an empty segment is no path


def _run_plan(plan, target: int, token: str, foreign: list[str], tally: Tally) -> None:
    """Spread ``target`` requests over the plan by weight; go round again while hypothesis, having
    exhausted some small input spaces early, left part of the budget unspent."""
    weight = sum(variant.weight for _op, _mode, variant in plan)
    for _ in range(MAX_PASSES):
        missing = target - sum(tally.sent.values())
        if missing <= 0:
            return
        for operation, mode, variant in plan:
            examples = max(1, round(missing * variant.weight / weight))
            _fuzz(operation, mode, variant, examples, token, foreign, tally)


@pytest.mark.parametrize("who,role", [("alpha", "owner"), ("bravo", "agent")])
def test_api_answers_every_generated_request_by_its_document(app, tenants, who, role):
    own = tenants[who]
    other = tenants["bravo" if who == "alpha" else "alpha"]
    token = own.api_tokens[role]
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_wsgi(f"/t/{own.slug}/api/v1/openapi.json", app, headers=headers, config=CONFIG)
    tally = Tally(Counter(), Counter(), [], set())
    foreign = [other.marker, *other.data.secrets]
    half = BUDGET // 2  # per tenant
    _run_plan(_plan(schema, own, other, "records"), half * 4 // 5, token, foreign, tally)
    _run_plan(_plan(schema, own, other, "fields"), half, token, foreign, tally)
    total = sum(tally.sent.values())
    print(f"\nschemathesis {who}/{role}: {total} requests, statuses {dict(sorted(tally.statuses.items()))}")
    assert not tally.failures, "\n\n".join(tally.failures)
    assert total >= half, f"only {total} requests were sent"


def test_undocumented_methods_answer_405_with_allow(app, client, tenants):
    """What schemathesis' ``unsupported_method`` check asks (it runs only in its own runner): every
    method a path does not document answers 405, with an ``Allow`` header naming the documented ones."""
    own = tenants["alpha"]
    headers = {"Authorization": f"Bearer {own.api_tokens['owner']}"}
    spec = client.get("/t/alpha/api/v1/openapi.json", headers=headers).get_json()
    fill = {"{account_id}": own.stocked.records["accounts"], "{contact_id}": own.stocked.records["contacts"],
            "{lead_id}": own.stocked.records["leads"], "{activity_id}": own.stocked.records["activities"],
            "{record_type}": "leads", "{field_key}": "notes", "{plugin}": "reports"}
    failures = []
    for path, item in spec["paths"].items():
        if not path.startswith(CORE_PATHS):
            continue
        documented = {m.upper() for m in item if m in ("get", "post", "put", "patch", "delete")}
        url = path
        for name, value in fill.items():
            url = url.replace(name, str(value))
        for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - documented):
            response = client.open(f"/t/alpha/api/v1{url}", method=method, headers=headers, json={})
            allowed = {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}
            if response.status_code != 405 or not documented <= allowed or response.mimetype != "application/problem+json":
                failures.append(f"{method} {url}: {response.status_code}, Allow {sorted(allowed)}")
    assert not failures, "\n".join(failures)
