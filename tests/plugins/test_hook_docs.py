"""Every hook spec is documented in docs/plugins.md and has a test named ``test_hook_<name>``."""
from __future__ import annotations

import ast
import functools
import inspect
import re
from pathlib import Path

import pytest

from rapport import hookspecs

ROOT = Path(__file__).resolve().parents[2]
HOOKS = sorted(
    name for name, func in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(func, "rapport_spec")  # set by @hookspec
)


@functools.cache
def _doc_headings() -> tuple[str, ...]:
    text = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    return tuple(line for line in text.splitlines() if re.match(r"^#{1,6} ", line))


@functools.cache
def _test_function_names() -> frozenset[str]:
    names = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names.update(node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return frozenset(names)


def test_hookspecs_are_found():
    assert {"register_permissions", "usage_event", "record_created", "plugin_settings_schema"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented(hook):
    assert any(re.search(rf"\b{hook}\b", heading) for heading in _doc_headings()), f"docs/plugins.md has no heading for {hook}"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook):
    assert f"test_hook_{hook}" in _test_function_names(), f"no test_hook_{hook} under tests/"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_spec_has_a_docstring(hook):
    assert (getattr(hookspecs, hook).__doc__ or "").strip()
