import pytest
from flask import g

from rapport import tenancy
from rapport.db import db
from rapport.fields.definitions import create_definition
from rapport.pipeline import Actor

OPERATOR = Actor.operator()


class Shop:
    """A tenant in scope, with helpers to define fields."""

    def __init__(self, tenant):
        self.tenant = tenant

    def define(self, record_type="contacts", **data):
        data.setdefault("label", data["key"].title())
        definition = create_definition(self.tenant, record_type, data, OPERATOR)
        db.session.commit()
        return definition


@pytest.fixture
def shop(world):
    tenant = world.tenant("shop")
    g.tenant = tenant
    with tenancy.tenant_scope(tenant.id):
        yield Shop(tenant)
