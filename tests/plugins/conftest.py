"""Fixtures for the plugin host: the third-party package installed for real with pip, two tenants
(one with a plugin on, one without) and the recording test plugin."""
from __future__ import annotations

import importlib
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugins.recorder import Recorder

THIRD_PARTY = Path(__file__).parent / "third_party"


def _can_build_wheels() -> bool:
    """``--no-build-isolation`` builds with this venv's setuptools: it needs ``wheel`` before 70.1."""
    import setuptools

    major, minor = (int(part) for part in setuptools.__version__.split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


@pytest.fixture(scope="session")
def hello_site(tmp_path_factory) -> Path:
    """``rapport-hello`` installed by pip into a directory of its own (built from a copy, so the
    build leaves nothing in the source tree). Returns that directory."""
    if not _can_build_wheels():
        pytest.fail("building rapport-hello needs the 'wheel' package or setuptools>=70.1 in the test venv")
    source = tmp_path_factory.mktemp("hello-src") / "rapport-hello"
    shutil.copytree(THIRD_PARTY, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = tmp_path_factory.mktemp("hello-site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(source)],
        check=True,
        capture_output=True,
    )
    return target


@pytest.fixture
def hello_installed(hello_site, monkeypatch):
    """Put the installed package on ``sys.path`` for one test; request it before the app is built
    (a module's ``app_config`` fixture depending on it does that, since ``app`` needs ``app_config``)."""
    monkeypatch.syspath_prepend(str(hello_site))
    importlib.invalidate_caches()
    yield hello_site
    for name in [m for m in sys.modules if m == "rapport_hello" or m.startswith("rapport_hello.")]:
        del sys.modules[name]
    importlib.invalidate_caches()


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def pair(world):
    """Two tenants, each with an owner and an agent: ``alpha`` and ``beta``."""
    alpha = world.tenant("alpha", owner_email="owner@alpha.test", name="Alpha & Co")
    beta = world.tenant("beta", owner_email="owner@beta.test", name="Beta Ltd")
    world.member(alpha, "agent@alpha.test", "agent")
    world.member(beta, "agent@beta.test", "agent")
    return alpha, beta
