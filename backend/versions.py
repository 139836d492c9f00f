"""Optimistic concurrency for edits: the one policy every versioned row follows.

Elders, plans, users, tasks and follow-ups carry a `version` that SQLAlchemy bumps on each write
(`version_id_col`). The policy:

- A version, when the client sends one, must be the row's current version; otherwise the edit is
  refused with 409 version_conflict and `current_version`, so the client reloads and retries.
- Whether a version must be sent is each endpoint's contract, kept in its schema: PATCH
  /elders/{id} and the follow-up claim, resolve and reopen require one (422 without); plan and
  user edits and follow-up comments accept one. Nothing answers 428: phones and scripts that send
  no version where none was required keep working.
- Check against the row locked for the edit (`scoped_or_404(..., for_update=True)`), so no one
  changes it between the check and the write.
"""

from flask_babel import lazy_gettext as _l

from backend.errors import RESOURCES, Conflict


def check_version(row, expected: int | None, *, what: str) -> None:
    """Raise version_conflict (409) when `expected` is given and is not the row's version."""
    if expected is not None and expected != row.version:
        raise Conflict(_l("%(what)s %(row_id)s is at version %(row_version)s, not %(expected)s",
                          what=_l(RESOURCES.get(what, what)),
                          row_id=row.id, row_version=row.version, expected=expected),
                       code="version_conflict", current_version=row.version)
