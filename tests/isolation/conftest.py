"""Two tenants, A ("alpha") and B ("bravo"), each holding one of every object a URL can name."""
import pytest

from tests.isolation.support import populate


@pytest.fixture
def alpha(app):
    return populate("alpha")


@pytest.fixture
def bravo(alpha):  # built after alpha so both exist whichever a test asks for first
    return populate("bravo")
