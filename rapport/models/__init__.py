"""The core's tables. Global tables (tenants, users) have no tenant_id; every other table is
tenant-owned and inherits :class:`rapport.db.TenantScoped`."""
from .audit import AuditEvent
from .custom_values import CustomValue
from .fields import FieldDefinition
from .identity import ApiToken, Membership, Role, Tenant, User
from .platform import IdempotencyKey, PluginState
from .records import STAGES, Account, Activity, Contact, Lead, LeadStageChange

__all__ = [
    "STAGES",
    "Account",
    "Activity",
    "ApiToken",
    "AuditEvent",
    "Contact",
    "CustomValue",
    "FieldDefinition",
    "IdempotencyKey",
    "Lead",
    "LeadStageChange",
    "Membership",
    "PluginState",
    "Role",
    "Tenant",
    "User",
]
