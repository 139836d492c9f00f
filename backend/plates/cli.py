"""`carerounds plates …`: print a community's plate sheet, issue the plates that are missing."""

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from backend.clock import utcnow
from backend.elders.models import Elder
from backend.extensions import db
from backend.plates import services
from backend.regions.models import Region


@click.group("plates")
def plates_group():
    """QR door plates (门牌二维码)."""


@plates_group.command("print")
@click.option("--community", "community_id", type=int, required=True, help="id of the community")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True,
              help="the PDF file to write")
@with_appcontext
def print_plates(community_id, out):
    """Write an A4 PDF sheet of the community's active static plates, ready to print and cut."""
    community = _community(community_id)
    out.write_bytes(services.plates_sheet(community))
    click.echo(f"wrote the plates of {community.name} to {out}")


@plates_group.command("issue")
@click.option("--community", "community_id", type=int, help="only this community (default: everywhere)")
@with_appcontext
def issue_plates(community_id):
    """Issue a static plate to every active elder who has none; safe to re-run."""
    query = select(Elder).where(Elder.is_active.is_(True)).order_by(Elder.id)
    if community_id is not None:
        query = query.where(Elder.community_id == _community(community_id).id)
    try:
        plates = services.ensure_plates(db.session.execute(query).scalars(), at=utcnow())
        db.session.commit()
    except Exception as error:  # a Problem carries the reason; show it as a CLI error
        db.session.rollback()
        raise click.ClickException(getattr(error, "problem_detail", None) or str(error)) from None
    click.echo(f"{len(plates)} plates issued")


def _community(community_id: int) -> Region:
    """The community of that id; another level's id names its communities instead."""
    region = db.session.get(Region, community_id)
    if region is None:
        raise click.ClickException(f"no region with id {community_id} (carerounds regions list shows them)")
    if region.level != "community":
        communities = db.session.execute(
            select(Region).where(Region.path.startswith(region.path), Region.level == "community")
            .order_by(Region.name)).scalars().all()
        listed = "\n".join(f"  {c.id:>6}  {c.name}" for c in communities) or "  (none)"
        raise click.ClickException(f"{region.id} is {region.name}, a {region.level}, not a community; "
                                   f"its communities are:\n{listed}")
    return region
