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

    result = verify_chain(db.session)
    if result.ok:
        click.echo(f"audit trail intact: {result.entries} entries, every link holds")
        return
    click.echo(f"audit trail BROKEN at entry {result.broken_at}: {result.reason} "
               f"({result.entries} entries verified before it)", err=True)
    raise SystemExit(1)
