"""`carerounds audit …`: check the audit trail's hash chain."""

import click
from flask.cli import with_appcontext

from backend.extensions import db


@click.group("audit")
def audit_group():
    """The tamper-evident audit trail."""


@audit_group.command("verify")
@with_appcontext
def verify():
    """Walk the hash chain from the first entry; report the first broken link (exit 1)."""
    from backend.audit.trail import verify_chain
    from backend.settlement.lifecycle import verify_statements

    result = verify_chain(db.session)
    broken = verify_statements(db.session) if result.ok else []
    for statement_id, reason in broken:
        click.echo(f"statement {statement_id} BROKEN: {reason}", err=True)
    if broken:
        raise SystemExit(1)
    if result.ok:
        click.echo(f"audit trail intact: {result.entries} entries, every link holds")
        return
    click.echo(f"audit trail BROKEN at entry {result.broken_at}: {result.reason} "
               f"({result.entries} entries verified before it)", err=True)
    raise SystemExit(1)
