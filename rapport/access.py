"""Record-level rules: without ``records.view_all`` a member sees records they own or that are
unassigned; without ``records.edit_all`` they edit only those, and may assign only themselves."""
from __future__ import annotations

from sqlalchemy import or_


def visible(stmt, model, member):
    if member.can("records.view_all"):
        return stmt
    return stmt.where(or_(model.owner_id == member.id, model.owner_id.is_(None)))


def can_see(record, member) -> bool:
    return member.can("records.view_all") or record.owner_id in (None, member.id)


def can_edit(record, member) -> bool:
    if not member.can("records.write"):
        return False
    return member.can("records.edit_all") or record.owner_id in (None, member.id)


def can_assign(owner_id, member) -> bool:
    return member.can("records.edit_all") or owner_id in (None, member.id)
