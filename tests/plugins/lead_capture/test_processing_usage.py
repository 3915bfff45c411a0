"""Every processed submission reports the ``leads.captured`` meter through the tenant's hooks."""
from __future__ import annotations

import pytest

from tests.plugins.lead_capture.processing_support import submit
from tests.plugins.recorder import Recorder
from tests.plugins.support import switch


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def app_config(recorder):
    return {"EXTRA_PLUGINS": [recorder]}


def test_each_processed_submission_is_metered(acme, make_form, recorder):
    switch(acme, "recorder", True)
    form = make_form()
    submit(acme, form, {"name": "First", "email": "first@example.com"})
    submit(acme, form, {"name": "Again", "email": "FIRST@example.com"})  # attached: still a capture
    captured = [c.kwargs for c in recorder.calls_of("usage_event") if c.kwargs["meter"] == "leads.captured"]
    assert [(c["tenant"].slug, c["quantity"]) for c in captured] == [("acme", 1), ("acme", 1)]
