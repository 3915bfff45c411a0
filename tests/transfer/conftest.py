"""Fixtures for CSV import and export: a tenant ``acme`` and a client logged in as its owner."""
import pytest


@pytest.fixture
def acme(world):
    return world.tenant("acme")


@pytest.fixture
def owner(client, world, acme):
    """A client logged in as acme's owner."""
    world.login(client, "owner@acme.test")
    return client

