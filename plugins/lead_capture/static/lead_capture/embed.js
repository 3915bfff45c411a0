/* Rapport lead form, embedded on another site.
 *
 * Usage on the host page:
 *   <div data-rapport-form></div>
 *   <script src="https://rapport.example/t/acme/f/contact-us/embed.js" async></script>
 *
 * The script fetches the form's definition and a fresh fill token (GET of the form's URL with
 * Accept: application/json; the form must list this site among its allowed origins), renders
 * labelled inputs, and submits JSON with an Idempotency-Key, so a retry is stored once. Field
 * errors are shown next to each field and in a summary announced by screen readers. Everything is
 * built with DOM methods and textContent (no HTML strings, no inline event handlers), so the
 * tenant's texts are never interpreted as markup and a strict CSP on the host page is respected.
 * Plain JavaScript, no build step.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.src || !window.fetch) {
    return;
  }
  var formUrl = script.src.replace(/\/embed\.js(?:[?#].*)?$/, "");
  var UTM_KEYS = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];
  var instances = 0;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === false || value === null || value === undefined) {
        return;
      }
      node.setAttribute(name, value === true ? "" : String(value));
    });
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes); // randomUUID needs a secure context; this does not
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  /* The boxes this script fills: those naming this form's URL, else the first unnamed free one. */
  function boxes() {
    var all = Array.prototype.slice.call(document.querySelectorAll("div[data-rapport-form]"));
    var free = all.filter(function (box) { return !box.hasAttribute("data-rapport-bound"); });
    var named = free.filter(function (box) { return box.getAttribute("data-rapport-form") === formUrl; });
    var chosen = named.length ? named : free.filter(function (box) { return !box.getAttribute("data-rapport-form"); }).slice(0, 1);
    chosen.forEach(function (box) { box.setAttribute("data-rapport-bound", "1"); });
    return chosen;
  }

  /* --- rendering ------------------------------------------------------------------------------ */
  function describe(input, ids) {
    if (ids.length) {
      input.setAttribute("aria-describedby", ids.join(" "));
    } else {
      input.removeAttribute("aria-describedby");
    }
  }

  function requiredMark(field, def) {
    return field.required ? el("span", { "class": "rapport-required", "aria-hidden": "true" }, " *") : null;
  }

  function fieldBlock(field, prefix, def) {
    var id = prefix + field.name;
    var block = el("div", { "class": "rapport-field", "data-field": field.name });
    var inputs = [];
    var label;
    if (field.type === "checkboxes") {
      block = el("fieldset", { "class": "rapport-field", "data-field": field.name, id: id });
      var legend = el("legend", {}, field.label);
      if (field.required) { legend.appendChild(requiredMark(field, def)); }
      block.appendChild(legend);
      field.options.forEach(function (option, i) {
        var box = el("input", { type: "checkbox", id: id + "-" + i, name: field.name, value: option.value });
        var optionLabel = el("label", { "for": id + "-" + i, "class": "rapport-choice" });
        optionLabel.appendChild(box);
        optionLabel.appendChild(document.createTextNode(" " + option.label));
        block.appendChild(optionLabel);
        inputs.push(box);
      });
    } else if (field.type === "checkbox") {
      var check = el("input", { type: "checkbox", id: id, name: field.name, value: "on", required: field.required });
      label = el("label", { "for": id, "class": "rapport-choice" });
      label.appendChild(check);
      label.appendChild(document.createTextNode(" " + field.label));
      if (field.required) { label.appendChild(requiredMark(field, def)); }
      block.appendChild(label);
      inputs.push(check);
    } else {
      label = el("label", { "for": id }, field.label);
      if (field.required) { label.appendChild(requiredMark(field, def)); }
      block.appendChild(label);
      var input;
      if (field.type === "textarea") {
        input = el("textarea", { id: id, name: field.name, rows: 5 });
      } else if (field.type === "select") {
        input = el("select", { id: id, name: field.name });
        input.appendChild(el("option", { value: "" }, def.messages.choose));
        field.options.forEach(function (option) {
          input.appendChild(el("option", { value: option.value }, option.label));
        });
      } else {
        input = el("input", {
          id: id, name: field.name, type: field.type, autocomplete: field.autocomplete, step: field.step,
          inputmode: field.type === "email" ? "email" : (field.type === "number" ? "decimal" : null)
        });
      }
      if (field.required) {
        input.required = true;
        input.setAttribute("aria-required", "true");
      }
      block.appendChild(input);
      inputs.push(input);
    }
    var help = null;
    if (field.help) {
      help = el("small", { id: "h-" + id, "class": "rapport-help" }, field.help);
      block.appendChild(help);
    }
    var error = el("p", { id: "e-" + id, "class": "rapport-error", hidden: true });
    block.appendChild(error);
    describe(field.type === "checkboxes" ? block : inputs[0], help ? [help.id] : []);
    return { field: field, block: block, inputs: inputs, help: help, error: error, focusId: inputs.length ? inputs[0].id : id };
  }

  function consentBlock(def, prefix) {
    var id = prefix + "consent";
    var block = el("div", { "class": "rapport-field rapport-consent", "data-field": "consent" });
    var box = el("input", { type: "checkbox", id: id, name: "consent", value: "on", required: true, "aria-required": "true" });
    var label = el("label", { "for": id, "class": "rapport-choice" });
    label.appendChild(box);
    label.appendChild(document.createTextNode(" " + def.consent.text));
    label.appendChild(el("span", { "class": "rapport-required", "aria-hidden": "true" }, " *"));
    block.appendChild(label);
    var error = el("p", { id: "e-" + id, "class": "rapport-error", hidden: true });
    block.appendChild(error);
    return { field: { name: "consent", label: def.consent.text, type: "checkbox" }, block: block, inputs: [box],
             help: null, error: error, focusId: id };
  }

  function honeypot(def, prefix) {
    // A trap for bots, as on the hosted page: clipped to nothing (styles set through the CSSOM, which
    // a strict CSP allows), away from screen readers and out of the tab order.
    var wrap = el("div", { "aria-hidden": "true", "class": "rapport-hp" });
    var hide = { position: "absolute", width: "1px", height: "1px", margin: "-1px", padding: "0", border: "0",
                 overflow: "hidden", clip: "rect(0 0 0 0)", clipPath: "inset(50%)", whiteSpace: "nowrap",
                 opacity: "0", pointerEvents: "none" };
    Object.keys(hide).forEach(function (name) { wrap.style[name] = hide[name]; });
    var id = prefix + def.honeypot;
    wrap.appendChild(el("label", { "for": id }, def.messages.honeypot));
    var input = el("input", { type: "text", id: id, name: def.honeypot, tabindex: "-1", autocomplete: "off" });
    wrap.appendChild(input);
    return { wrap: wrap, input: input };
  }

  /* --- errors --------------------------------------------------------------------------------- */
  function clearErrors(state) {
    state.summary.hidden = true;
    while (state.summary.firstChild) { state.summary.removeChild(state.summary.firstChild); }
    state.parts.forEach(function (part) {
      part.error.hidden = true;
      part.error.textContent = "";
      part.inputs.forEach(function (input) { input.removeAttribute("aria-invalid"); });
      describe(part.field.type === "checkboxes" ? part.block : part.inputs[0], part.help ? [part.help.id] : []);
    });
  }

  function showSummary(state, items) {
    state.summary.appendChild(el("h2", {}, state.def.messages.error_summary));
    var list = el("ul");
    items.forEach(function (item) {
      var li = el("li");
      if (item.href) {
        var link = el("a", { href: "#" + item.href }, item.label);
        link.addEventListener("click", function (event) {
          event.preventDefault();
          var target = document.getElementById(item.href);
          if (target) { target.focus(); }
        });
        li.appendChild(link);
        li.appendChild(document.createTextNode(": " + item.text));
      } else {
        li.textContent = item.label ? item.label + ": " + item.text : item.text;
      }
      list.appendChild(li);
    });
    state.summary.appendChild(list);
    state.summary.hidden = false;
    state.summary.focus();
  }

  function showErrors(state, errors) {
    var items = [];
    Object.keys(errors).forEach(function (name) {
      var text = [].concat(errors[name]).join(" ");
      var part = state.parts.filter(function (p) { return p.field.name === name; })[0];
      if (!part) {
        items.push({ label: name, text: text });
        return;
      }
      part.error.textContent = text;
      part.error.hidden = false;
      part.inputs.forEach(function (input) { input.setAttribute("aria-invalid", "true"); });
      describe(part.field.type === "checkboxes" ? part.block : part.inputs[0],
               (part.help ? [part.help.id] : []).concat([part.error.id]));
      items.push({ label: part.field.label, text: text, href: part.focusId });
    });
    showSummary(state, items);
  }

  function showFailure(state, text) {
    clearErrors(state);
    showSummary(state, [{ label: "", text: text }]);
  }

  /* --- submitting ----------------------------------------------------------------------------- */
  function valueOf(part) {
    if (part.field.type === "checkboxes") {
      return part.inputs.filter(function (i) { return i.checked; }).map(function (i) { return i.value; });
    }
    if (part.field.type === "checkbox") {
      return part.inputs[0].checked;
    }
    return part.inputs[0].value;
  }

  function payload(state) {
    var body = {};
    var custom = {};
    var asksCustom = false;
    state.parts.forEach(function (part) {
      var name = part.field.name;
      var value = valueOf(part);
      if (name === "consent") {
        body.consent = value;
        body.consent_version = state.def.consent.version;
      } else if (name.indexOf("custom.") === 0) {
        asksCustom = true;
        if (value !== "" && !(Array.isArray(value) && !value.length)) {
          custom[name.slice(7)] = value;
        }
      } else {
        body[name] = value;
      }
    });
    if (asksCustom) { body.custom = custom; }
    var query = new URLSearchParams(window.location.search);
    UTM_KEYS.forEach(function (key) {
      if (query.get(key)) { body[key] = query.get(key); }
    });
    body.landing_page = window.location.href;
    body.referrer = document.referrer || null;
    body[state.def.token_field] = state.def.token;
    body[state.def.honeypot] = state.honeypot.input.value;
    return body;
  }

  function thank(state) {
    if (state.def.redirect_url) {
      window.location.assign(state.def.redirect_url);
      return;
    }
    var done = el("div", { "class": "rapport-thanks", role: "status", tabindex: "-1" }, state.def.thank_you_message);
    state.box.replaceChild(done, state.form);
    done.focus();
  }

  function submit(state, event) {
    event.preventDefault();
    if (state.busy) { return; }
    state.busy = true;
    state.key = state.key || uuid(); // kept for retries until it succeeds: the server stores it once
    state.button.disabled = true;
    state.button.textContent = state.def.messages.sending;
    fetch(state.def.submit_url, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "Idempotency-Key": state.key },
      body: JSON.stringify(payload(state))
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    }).then(function (answer) {
      if (answer.status === 200 || answer.status === 201) {
        thank(state);
        return;
      }
      clearErrors(state);
      if (answer.status === 422 && answer.data && answer.data.errors) {
        showErrors(state, answer.data.errors);
      } else {
        showFailure(state, (answer.data && answer.data.detail) || state.def.messages.failed);
      }
    }).catch(function () {
      showFailure(state, state.def.messages.failed);
    }).then(function () {
      state.busy = false;
      state.button.disabled = false;
      state.button.textContent = state.def.messages.submit;
    });
  }

  function render(box, def) {
    var prefix = "rapport-" + (++instances) + "-";
    var form = el("form", { "class": "rapport-form", novalidate: true, "aria-label": def.name });
    var summary = el("div", { "class": "rapport-error-summary", role: "alert", tabindex: "-1", hidden: true });
    form.appendChild(summary);
    var parts = def.fields.map(function (field) { return fieldBlock(field, prefix, def); });
    if (def.consent) { parts.push(consentBlock(def, prefix)); }
    parts.forEach(function (part) { form.appendChild(part.block); });
    var trap = honeypot(def, prefix);
    form.appendChild(trap.wrap);
    var button = el("button", { type: "submit", "class": "rapport-submit" }, def.messages.submit);
    form.appendChild(button);
    var state = { box: box, def: def, form: form, summary: summary, parts: parts, honeypot: trap, button: button,
                  busy: false, key: null };
    form.addEventListener("submit", function (event) { submit(state, event); });
    while (box.firstChild) { box.removeChild(box.firstChild); }
    box.appendChild(form);
  }

  function start() {
    boxes().forEach(function (box) {
      fetch(formUrl, { headers: { "Accept": "application/json" }, mode: "cors", credentials: "omit" })
        .then(function (response) {
          if (!response.ok) { throw new Error("form unavailable: " + response.status); }
          return response.json();
        })
        .then(function (def) { render(box, def); })
        .catch(function (error) {
          box.setAttribute("data-rapport-error", "1");
          if (window.console) { window.console.error("Rapport form", formUrl, error); }
        });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
