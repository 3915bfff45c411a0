"""Record-level rules: without ``records.view_all`` a member sees records they own or that are
unassigned; without ``records.edit_all`` they edit only those, and may assign only themselves."""
from __future__ import annotations

from sqlalchemy import or_


def sees_all(member) -> bool:
    return member.can("records.view_all")


def visible(stmt, model, member):
    if sees_all(member):
        return stmt
    return stmt.where(own_or_unassigned(model, member.id))


def own_or_unassigned(model, member_id):
    """The records ``member_id`` (an id, or a bound parameter that will hold one) owns or nobody does."""
    return or_(model.owner_id == member_id, model.owner_id.is_(None))


def can_see(record, member) -> bool:
    return sees_all(member) or record.owner_id in (None, member.id)


def can_edit(record, member) -> bool:
    if not member.can("records.write"):
        return False
    return member.can("records.edit_all") or record.owner_id in (None, member.id)


def can_assign(owner_id, member) -> bool:
    return member.can("records.edit_all") or owner_id in (None, member.id)
