"""`carerounds regions list`: the region tree with the ids other commands ask for."""

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from backend.extensions import db
from backend.regions.models import Region

LEVEL_NAMES = {"city": "市", "district": "区/县", "street": "街道/乡镇", "community": "社区/村"}


@click.group("regions")
def regions_group():
    """Regions (市 → 区/县 → 街道/乡镇 → 社区/村)."""


@regions_group.command("list")
@with_appcontext
def list_regions():
    """Print the region tree: id, level, name and 12-digit code, children indented under parents."""
    regions = db.session.execute(select(Region).order_by(Region.path)).scalars().all()
    if not regions:
        click.echo("no regions yet (carerounds demo seeds a demo city)")
        return
    by_parent: dict[int | None, list[Region]] = {}
    for region in regions:
        by_parent.setdefault(region.parent_id, []).append(region)
    known = {region.id for region in regions}

    def show(region: Region, depth: int) -> None:
        level = LEVEL_NAMES.get(region.level, region.level)
        code = f"  {region.code}" if region.code else ""
        click.echo(f"{region.id:>6}  {'  ' * depth}{region.name}  [{level}]{code}")
        for child in sorted(by_parent.get(region.id, []), key=lambda r: r.name):
            show(child, depth + 1)

    for root in sorted((r for r in regions if r.parent_id is None or r.parent_id not in known), key=lambda r: r.name):
        show(root, 0)
