"""CSV import of accounts, contacts and leads, for the web page and the CLI alike.

The whole file is read and every row checked with :func:`rapport.crm.validate` before anything is
written; only then does a second pass create the records through :func:`rapport.crm.create`, in one
transaction. A bad row is reported with its physical line in the file (the header is line 1), its
column and the reason. Nothing is written while any row is bad, unless the caller asks for the good
rows only.
"""
from __future__ import annotations

import codecs
import csv
import re
import uuid
from dataclasses import dataclass, field
from typing import BinaryIO, Callable, Iterable, Iterator

from flask import current_app
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import func, select

from .. import access, crm
from ..db import db
from ..i18n import localize
from ..models import Account, Membership, User
from ..fields import forms as custom_forms
from .columns import column_of, columns, custom_fields, field_of, required_columns, unescape_formula

DEFAULT_MAX_ROWS = 50_000


class FileError(Exception):
    """The file as a whole cannot be imported (encoding, header, size). Nothing was written."""


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    reason: str


@dataclass
class Report:
    record_type: str
    rows: int = 0
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def bad_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})


@dataclass
class _Row:
    line: int
    cells: list[str]


@dataclass
class _Parsed:
    header: list[str]  # the header cells as written, for naming columns in the report
    columns: list[str]  # the record column each position maps to
    rows: list[_Row]


Progress = Callable[[list, str], Iterable]


def _no_progress(items: list, _label: str) -> Iterable:
    return items


def import_csv(
    stream: BinaryIO,
    record_type: str,
    actor,
    member: Membership | None = None,
    good_rows_only: bool = False,
    progress: Progress = _no_progress,
) -> Report:
    """Check the whole file, then create its records in one transaction and commit.

    Raises :class:`FileError` for a file that cannot be read at all. ``member``, when given, is whom
    the import acts for: their record rules apply (whom they may assign, which accounts they see).
    """
    custom = custom_fields(record_type, member)
    parsed = read(stream, record_type, current_app.config.get("IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS), custom)
    report = Report(record_type, rows=len(parsed.rows))
    checker = _RowChecker(record_type, parsed, member, custom)
    good = []
    for row in progress(parsed.rows, _("Checking")):
        data, errors = checker.check(row)
        report.errors.extend(errors)
        if not errors:
            good.append((row.line, data))
    if report.errors and not good_rows_only:
        return report
    report.imported = _create_all(record_type, good, actor, member, report, progress)
    return report


def _create_all(record_type, good, actor, member, report, progress) -> int:
    """Second pass: create every checked row, all or nothing."""
    line = None
    try:
        for line, data in progress(good, _("Importing")):
            crm.create(record_type, data, actor, member)
        db.session.commit()
    except ValidationError as exc:
        # Something changed between the passes (e.g. an account was deleted meanwhile).
        db.session.rollback()
        report.errors.extend(_errors_from(exc.messages, line, {}))
        return 0
    except BaseException:
        db.session.rollback()
        raise
    return len(good)


# --- reading the file -------------------------------------------------------------------------


def column_key(header: str) -> str:
    """Headers match columns case-insensitively, trimmed, with inner spaces as underscores."""
    return "_".join(header.split()).lower()


# One physical line with its ending; a bare \r (old Mac files) ends a line too.
_PHYSICAL_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def _decoded_lines(stream: BinaryIO) -> Iterator[str]:
    """The file's physical lines as text. UTF-8 never has a newline byte inside a character, so
    decoding line by line is exact and names the line of any invalid byte."""
    number = 0
    for raw in iter(stream.readline, b""):
        if number == 0 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise FileError(
                _('Line %(line)d is not valid UTF-8. Save the file as "CSV UTF-8" and try again.', line=number + 1)
            ) from None
        for line in _PHYSICAL_LINE.findall(text):
            number += 1
            yield line


def read(stream: BinaryIO, record_type: str, max_rows: int, custom=()) -> _Parsed:
    reader = csv.reader(_decoded_lines(stream))
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise FileError(_("The file is empty: the first line must name the columns."))
        mapped = _map_header(header, record_type, custom)
        rows = []
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue  # blank lines are no rows
            if len(rows) >= max_rows:
                raise FileError(_("The file has more than %(limit)d rows. Split it into smaller files.", limit=max_rows))
            rows.append(_Row(line, cells))
    except csv.Error as exc:
        raise FileError(_("Line %(line)d cannot be read as CSV: %(reason)s", line=reader.line_num, reason=str(exc))) from None
    return _Parsed([h.strip() for h in header], mapped, rows)


def _custom_column(key: str, custom) -> str | None:
    """A custom field's column, named ``custom.<key>`` or by the field's label (any case)."""
    for w in custom:
        if key in (w.name, column_key(w.label)):
            return w.name
    return None


def _map_header(header: list[str], record_type: str, custom=()) -> list[str]:
    core = columns(record_type)
    keys = [column_key(h) for h in header]
    # Core columns win over a custom field labelled the same (e.g. "Email").
    keys = [key if key in core else (_custom_column(key, custom) or key) for key in keys]
    known = core + tuple(w.name for w in custom)
    unknown = [
        f'"{h.strip()}"' if h.strip() else _("(no name, column %(n)d)", n=n)
        for n, (h, key) in enumerate(zip(header, keys), start=1)
        if key not in known
    ]
    if unknown:
        raise FileError(
            _("Unknown columns: %(names)s. Columns for %(type)s: %(known)s.",
              names=", ".join(unknown), type=record_type, known=", ".join(known))
        )
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise FileError(_("Columns named more than once: %(names)s.", names=", ".join(repeated)))
    missing = [c for c in required_columns(record_type) if c not in keys]
    if missing:
        raise FileError(_("Missing columns: %(names)s.", names=", ".join(missing)))
    return keys


# --- checking a row ---------------------------------------------------------------------------


class _RowChecker:
    """Turns a CSV row into record data, resolving names to ids, and validates it with crm."""

    def __init__(self, record_type: str, parsed: _Parsed, member: Membership | None, custom=()):
        self.record_type = record_type
        self.custom = {w.name: w for w in custom}
        self.member = member
        self.columns = parsed.columns
        # report columns as the file names them
        self.header_of = dict(zip(parsed.columns, parsed.header))
        self._accounts: dict[str, uuid.UUID | str] = {}
        self._owners: dict[str, uuid.UUID | str] = {}

    def check(self, row: _Row) -> tuple[dict, list[RowError]]:
        if len(row.cells) > len(self.columns):
            reason = _("This row has %(cells)d cells but the header names %(columns)d columns.",
                       cells=len(row.cells), columns=len(self.columns))
            return {}, [RowError(row.line, "", reason)]
        data, problems = {}, {}
        for column, cell in zip(self.columns, row.cells):
            value = unescape_formula(cell.strip())
            if not value:
                continue  # an empty cell means "not given", so defaults apply
            if column in self.custom:
                widget = self.custom[column]
                data.setdefault("custom", {})[widget.spec.key] = custom_forms.from_cell(widget, value)
                continue
            if column == "account":
                value = self._resolve(self._accounts, value, self._account_id, problems, "account_id")
            elif column == "owner":
                value = self._resolve(self._owners, value.lower(), self._owner_id, problems, "owner_id")
            if value is not None:
                data[field_of(column)] = value
        try:
            crm.validate(self.record_type, data)
        except ValidationError as exc:
            problems.update(exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages})
        if problems:
            return {}, _errors_from(problems, row.line, self.header_of)
        if self.member is not None and not access.can_assign(_uuid(data.get("owner_id")), self.member):
            return {}, [RowError(row.line, self.header_of.get("owner", "owner"), _("You can assign records only to yourself."))]
        return data, []

    @staticmethod
    def _resolve(cache: dict, key: str, lookup, problems: dict, field_name: str):
        """Look a name up once per file; a cached string is the reason it failed."""
        if key not in cache:
            cache[key] = lookup(key)
        found = cache[key]
        if isinstance(found, uuid.UUID):
            return str(found)
        problems[field_name] = [found]
        return None

    def _account_id(self, name: str) -> uuid.UUID | str:
        stmt = select(Account.id, Account.name).where(func.lower(Account.name) == name.lower()).limit(50)
        if self.member is not None:
            stmt = access.visible(stmt, Account, self.member)
        candidates = db.session.execute(stmt).all()
        exact = [row.id for row in candidates if row.name == name]
        ids = exact or [row.id for row in candidates]
        if len(ids) == 1:
            return ids[0]
        if not ids:
            return _('No account named "%(name)s".', name=name)
        return _('%(count)d accounts are named "%(name)s"; link this row by hand.', count=len(ids), name=name)

    def _owner_id(self, email: str) -> uuid.UUID | str:
        member_id = db.session.scalar(
            select(Membership.id)
            .join(User, User.id == Membership.user_id)
            .where(func.lower(User.email) == email, Membership.status == "active")
        )
        return member_id if member_id is not None else _('No active member with the email "%(email)s".', email=email)


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


def _errors_from(messages, line: int, header_of: dict) -> list[RowError]:
    """Flatten marshmallow's ``{field: [reasons]}`` into one error per field, named by column."""
    if not isinstance(messages, dict):
        messages = {"": messages}
    errors = []
    for field_name, reasons in messages.items():
        column = "" if field_name == "_schema" else column_of(field_name)
        errors.append(RowError(line, header_of.get(column, column), " ".join(_flatten(reasons))))
    return errors


def _flatten(reasons) -> list[str]:
    if isinstance(reasons, dict):
        return [text for value in reasons.values() for text in _flatten(value)]
    if isinstance(reasons, (list, tuple)):
        return [text for value in reasons for text in _flatten(value)]
    return [localize(str(reasons))]  # marshmallow's own messages in the member's language
