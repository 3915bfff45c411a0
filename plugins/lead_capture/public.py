"""The public side of a lead form, at ``/t/<slug>/f/<form-slug>``: no login.

- ``GET``: the hosted page (``?embed=1``: without the page's chrome, for an iframe), or with
  ``Accept: application/json`` the form's definition and a fresh fill token (for the embed script
  and integrations).
- ``POST`` of an HTML form: errors shown next to each field with what was typed kept (422), else the
  thank-you page or a 303 to the form's redirect URL.
- ``POST`` of JSON: 422 problem details naming each bad field, else 201 ``{"id", "status"}``;
  ``Idempotency-Key`` dedupes (a repeat answers the first result, 200).
- ``OPTIONS``: CORS preflight. Only the form's allowed origins get ``Access-Control-Allow-Origin``;
  a POST carrying another ``Origin`` (not this app's own) is refused with 403. The hosted page may be
  framed by the same origins only (``frame-ancestors``).
- ``GET .../embed.js``: the embed script (plain JavaScript, no build step).

CSRF: these endpoints are exempt from Flask-WTF's CSRF check. CSRF protects the authority of a
session cookie; a visitor here has no session and acts with no authority (they only add a
submission, as anyone may), and a cross-site iframe would not even send the cookie under
SameSite=Lax. The signed fill token (``abuse``) plays the anti-forgery role instead: it proves the
form was rendered first and dedupes repeats, and the Origin check refuses other sites' pages.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, g, jsonify, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from rapport.db import db
from rapport.fields.forms import from_form, posted_values
from rapport.i18n import http_error_text
from rapport.problems import problem
from rapport.security import CSP, csrf

from . import abuse, intake
from .forms import normalise_origin
from .models import LeadForm

STATIC = Path(__file__).parent / "static" / "lead_capture"
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_MAX = 90  # the stored dedupe key is "k:" + the client's key, in a 100-character column
CORS_MAX_AGE = "600"

bp = Blueprint("lead_capture_public", __name__, url_prefix="/t/<tenant_slug>/f", template_folder="templates",
               static_folder="static", static_url_path="/_static")
csrf.exempt(bp)  # see the module's docstring: no session authority here; the fill token stands in


# --- loading the form and who may talk to it -------------------------------------------------------
def published_form(form_slug: str) -> LeadForm:
    """The tenant's published form with this slug, else 404 (the query is scoped to the URL's tenant,
    so another tenant's slug is not found either)."""
    form = db_form(form_slug)
    if form is None or not form.published:
        abort(404)
    g.lead_form = form
    return form


_FORM_BY_SLUG = select(LeadForm).where(LeadForm.slug == bindparam("slug"))  # built once, the slug a parameter


def db_form(form_slug: str) -> LeadForm | None:
    return db.session.scalar(_FORM_BY_SLUG, {"slug": form_slug})


def origin_of(url: str | None) -> str | None:
    """The origin of a URL or an ``Origin`` header, normalised as the form builder stores allowed
    origins (``forms.normalise_origin``); None when it has none (``null``, not http(s), malformed)."""
    if not url or not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
        return normalise_origin(f"{parts.scheme}://{parts.netloc}")
    except ValueError:
        return None


def allowed_origins(form: LeadForm) -> list[str]:
    return [o for o in (origin_of(x) for x in form.allowed_origins or []) if o]


def own_origins() -> set[str]:
    """This app's origin as configured and as the request reached it, in either scheme: behind a
    proxy that ends TLS the app sees http while the browser's Origin says https."""
    seen = [f"{scheme}://{request.host}" for scheme in ("http", "https")]
    return {o for o in (*map(origin_of, seen), origin_of(current_app.config.get("BASE_URL"))) if o}


def cors_origin(form: LeadForm) -> str | None:
    """The request's Origin when the form allows it (echoed exactly as sent), else None."""
    origin = request.headers.get("Origin")
    return origin if origin and origin_of(origin) in allowed_origins(form) else None


def refuse_foreign_origin(form: LeadForm) -> None:
    """403 for a POST from a page of a site the form does not list (browsers send Origin on POST)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return  # not sent by a browser page (a server-side integration, curl)
    normal = origin_of(origin)
    if normal is None or (normal not in own_origins() and normal not in allowed_origins(form)):
        abort(403, _("This form does not accept submissions from that site."))


def _form_for_cors(response: Response) -> LeadForm | None:
    form = g.get("lead_form")
    slug = (request.view_args or {}).get("form_slug")
    if form is None and response.status_code in (413, 429) and slug and request.headers.get("Origin") \
            and g.get("tenant") is not None:
        # Refused before the view loaded the form (body limit, rate limit): the page that sent it
        # may still read the answer, so that it can tell the person what happened.
        form = db_form(slug)
    return form if form is not None and form.published else None


@bp.after_request
def _cors_headers(response: Response) -> Response:
    try:
        form = _form_for_cors(response)
    except SQLAlchemyError:
        # The database failed mid-request (the answer is already a 503): the form loaded earlier was
        # expired by the failed transaction; answer without CORS rather than turn the 503 into a 500.
        return response
    if form is None:
        return response
    response.vary.add("Origin")
    origin = cors_origin(form)
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = f"Content-Type, Accept, {IDEMPOTENCY_HEADER}"
        response.headers["Access-Control-Expose-Headers"] = "Retry-After"
        response.headers["Access-Control-Max-Age"] = CORS_MAX_AGE
    return response


@bp.before_request
def _body_limit():
    if request.method == "POST":
        abuse.limit_body()


# --- answers --------------------------------------------------------------------------------------
def wants_json() -> bool:
    if request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def page_csp(form: LeadForm) -> str:
    """The app's CSP with ``frame-ancestors`` opened to the form's sites, and ``form-action`` to the
    redirect URL's site (browsers apply form-action to the redirect that follows a POST)."""
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";") if d.strip())
    directives["frame-ancestors"] = " ".join(["'self'", *allowed_origins(form)])
    redirect_origin = origin_of(form.redirect_url)
    directives["form-action"] = "'self'" + (f" {redirect_origin}" if redirect_origin else "")
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def hosted(form: LeadForm, response: Response) -> Response:
    """A page of the form: framable by its sites only, never cached (each rendering has a token)."""
    response.headers["Content-Security-Policy"] = page_csp(form)
    response.headers.pop("X-Frame-Options", None)
    response.headers["Cache-Control"] = "no-store"
    return response


def embedded() -> bool:
    return request.args.get("embed") == "1"


def render_form(form: LeadForm, asked, *, token: str, context: dict, values=None, errors=None,
                consent_checked=False, status: int = 200) -> Response:
    labels = {f.name: f.label for f in asked}
    labels["consent"] = _("Consent")
    html = render_template("lead_capture/public_form.html", form=form, asked=asked, token=token, context=context,
                           values=values or {}, errors=errors or {}, labels=labels, consent_checked=consent_checked,
                           embed=embedded(), honeypot=abuse.HONEYPOT_FIELD, token_field=abuse.TOKEN_FIELD,
                           utm_keys=intake.UTM_KEYS)
    return hosted(form, Response(html, status=status, mimetype="text/html"))


def thank(form: LeadForm) -> Response:
    if origin_of(form.redirect_url):
        return hosted(form, redirect(form.redirect_url, 303))
    html = render_template("lead_capture/public_thanks.html", form=form, embed=embedded())
    return hosted(form, Response(html, mimetype="text/html"))


def definition(form: LeadForm) -> dict:
    """What the embed script needs to render the form, with a fresh fill token."""
    consent = {"text": form.consent_text, "version": form.consent_version} if form.consent_text else None
    return {
        "slug": form.slug, "name": form.name,
        "submit_url": url_for(".submit", form_slug=form.slug, _external=True),
        "fields": [f.as_json() for f in intake.asked_fields(form, g.tenant)],
        "consent": consent, "thank_you_message": form.thank_you_message or _("Thank you. We will be in touch."),
        "redirect_url": form.redirect_url if origin_of(form.redirect_url) else None,
        "token": abuse.issue_token(form), "token_field": abuse.TOKEN_FIELD, "honeypot": abuse.HONEYPOT_FIELD,
        "messages": {
            "submit": _("Send"), "sending": _("Sending…"), "choose": _("Choose…"),
            "honeypot": _("Leave this field empty"), "error_summary": _("Please correct the following:"),
            "failed": _("Your message could not be sent. Check your connection and try again."),
        },
    }


# --- views ----------------------------------------------------------------------------------------
@bp.get("/<form_slug>", provide_automatic_options=False)
def show(form_slug):
    form = published_form(form_slug)
    if wants_json():
        response = jsonify(definition(form))
        response.headers["Cache-Control"] = "no-store"
        return response
    asked = intake.asked_fields(form, g.tenant)
    return render_form(form, asked, token=abuse.issue_token(form), context=intake.landing_context())


@bp.route("/<form_slug>", methods=["OPTIONS"], endpoint="preflight", provide_automatic_options=False)
def preflight(form_slug):
    form = published_form(form_slug)
    if cors_origin(form) is None:
        abort(403, _("This form does not accept submissions from that site."))
    return Response(status=204)


@bp.post("/<form_slug>", provide_automatic_options=False)
def submit(form_slug):
    abuse.check_rate_limits()
    form = published_form(form_slug)
    refuse_foreign_origin(form)
    if request.is_json:
        return submit_json(form)
    return submit_html(form)


@bp.get("/<form_slug>/embed.js")
def embed_script(form_slug):
    published_form(form_slug)
    return send_from_directory(STATIC, "embed.js", mimetype="text/javascript", max_age=300)


# --- the HTML form ---------------------------------------------------------------------------------
def submit_html(form: LeadForm) -> Response:
    asked = intake.asked_fields(form, g.tenant)
    posted = request.form
    widgets = [f.widget for f in asked if f.custom]
    core_raw = {f.name: posted.get(f.name, "") for f in asked if not f.custom}
    data, errors = intake.validate_submission(asked, core_raw, from_form(posted, widgets, editing=False), g.tenant)
    consented = posted.get("consent") == "on"
    errors.update(intake.consent_errors(form, consented, posted.get("consent_version")))
    token = abuse.read_token(posted.get(abuse.TOKEN_FIELD), form)
    context = intake.visit_context(posted)
    if errors:
        values = {**{f.name: posted.get(f.name, "") for f in asked if not f.custom}, **posted_values(posted, widgets)}
        raw_token = posted.get(abuse.TOKEN_FIELD) if token else abuse.issue_token(form)
        return render_form(form, asked, token=raw_token, context=context, values=values, errors=errors,
                           consent_checked=consented and "consent" not in errors, status=422)
    spam = abuse.spam_reason(form, token, posted.get(abuse.HONEYPOT_FIELD), json_client=False)
    key = intake.token_dedupe_key(token.nonce, data) if token else intake.payload_dedupe_key(form, data)
    accept(form, key, data, consent=consented, context=context, spam=spam)
    return thank(form)


def accept(form: LeadForm, key: str, data: dict, **kwargs):
    """Store (committed), then queue the processing of a genuine new submission."""
    tenant_id = g.tenant.id
    submission, created = intake.store(form, key, data, **kwargs)
    if created and submission.status == intake.RECEIVED:
        intake.enqueue_processing(tenant_id, submission.id)
    return submission, created


# --- JSON --------------------------------------------------------------------------------------------
JSON_EXTRA_KEYS = {"custom", "consent", "consent_version", *intake.UTM_KEYS, *intake.URL_KEYS}


def submit_json(form: LeadForm) -> Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return problem(400, _("Bad request"), _("Send a JSON object."))
    key, key_errors = idempotency_key()
    asked = intake.asked_fields(form, g.tenant)
    errors = {**key_errors, **unasked_keys(body, asked), **intake.context_errors(body)}
    core_raw = {f.name: body.get(f.name) for f in asked if not f.custom and f.name in body}
    data, field_errors = intake.validate_submission(asked, core_raw, body.get("custom"), g.tenant)
    errors.update(field_errors)
    errors.update(intake.consent_errors(form, body.get("consent"), body.get("consent_version")))
    if errors:
        return problem(422, _("Invalid submission"), _("Some fields need correcting."), errors=errors)
    token = abuse.read_token(body.get(abuse.TOKEN_FIELD), form)
    spam = abuse.spam_reason(form, token, body.get(abuse.HONEYPOT_FIELD), json_client=True)
    if key is None:
        key = intake.token_dedupe_key(token.nonce, data) if token else intake.payload_dedupe_key(form, data)
    submission, created = accept(form, key, data, consent=body.get("consent") is True,
                                 context=intake.visit_context(body), spam=spam)
    return jsonify(id=str(submission.id), status=intake.public_status(submission)), 201 if created else 200


def idempotency_key() -> tuple[str | None, dict]:
    raw = request.headers.get(IDEMPOTENCY_HEADER)
    if raw is None:
        return None, {}
    if not 0 < len(raw) <= IDEMPOTENCY_MAX or not raw.isascii() or not raw.isprintable() or " " in raw:
        return None, {IDEMPOTENCY_HEADER: [_("Send 1 to %(n)s visible ASCII characters, e.g. a UUID.", n=IDEMPOTENCY_MAX)]}
    return f"k:{raw}", {}


def unasked_keys(body: dict, asked) -> dict:
    """JSON keys the form does not ask, named (a typo in an integration must not lose a field)."""
    known = {f.name for f in asked if not f.custom} | JSON_EXTRA_KEYS | {abuse.TOKEN_FIELD, abuse.HONEYPOT_FIELD}
    errors = {k: [_("This form does not ask for this field.")] for k in body if k not in known}
    custom = body.get("custom")
    if isinstance(custom, dict):
        asked_custom = {f.key for f in asked if f.custom}
        errors.update({f"custom.{k}": [_("This form does not ask for this field.")] for k in custom if k not in asked_custom})
    return errors


# --- errors: a problem document for JSON clients, a plain page without staff chrome for people ------
def _error(exc: HTTPException):
    title, description = http_error_text(exc)
    if wants_json():
        response = problem(exc.code, title, description)
    else:
        html = render_template("lead_capture/public_error.html", error=exc, title=title, description=description,
                               embed=embedded())
        response = Response(html, status=exc.code, mimetype="text/html")
    return response  # a 429 gets its Retry-After from the core (rapport.security)


for _code in (400, 403, 404, 405, 413, 429):
    bp.register_error_handler(_code, _error)
