"""GET/POST /regions, GET/PATCH/DELETE /regions/{id}: the region tree, read within scope."""

from flask import g
from sqlalchemy import select

from backend.api import Blueprint
from backend.auth.access import roles
from backend.extensions import db
from backend.pagination import paginate
from backend.regions import services
from backend.regions.models import Region
from backend.scope import regions_clause, scoped_or_404
from schemas.regions import RegionCreateSchema, RegionListArgs, RegionPageSchema, RegionSchema, RegionUpdateSchema

blp = Blueprint("regions", __name__, url_prefix="/api/v1/regions",
                description="Cities, districts, streets, communities")


@blp.get("")
@blp.arguments(RegionListArgs, location="query")
@blp.response(200, RegionPageSchema)
def list_regions(args):
    """Admins see every region; supervisors their subtree and its ancestors; workers their communities."""
    query = select(Region).where(regions_clause(g.user))
    for name in ("level", "parent_id"):
        if name in args:
            query = query.where(getattr(Region, name) == args[name])
    return paginate(query.order_by(Region.path), page=args["page"], per_page=args["per_page"])


@blp.get("/<int:region_id>")
@blp.response(200, RegionSchema)
def get_region(region_id):
    return scoped_or_404(Region, region_id, regions_clause(g.user), what="region")


@blp.post("")
@roles("admin")
@blp.arguments(RegionCreateSchema)
@blp.response(201, RegionSchema)
def create_region(args):
    """A city has no parent; a district belongs to a city or stands alone; a street belongs to a
    district, a community to a street. A code must extend its parent's (统计用区划代码)."""
    region = services.create_region(**args, by=g.user)
    db.session.commit()
    return region


@blp.patch("/<int:region_id>")
@roles("admin")
@blp.arguments(RegionUpdateSchema)
@blp.response(200, RegionSchema)
def update_region(args, region_id):
    region = scoped_or_404(Region, region_id, regions_clause(g.user), what="region")
    region = services.update_region(region, args, by=g.user)
    db.session.commit()
    return region


@blp.delete("/<int:region_id>")
@roles("admin")
@blp.response(204)
def delete_region(region_id):
    """Only a region with no children, elders or users can go."""
    services.delete_region(scoped_or_404(Region, region_id, regions_clause(g.user), what="region"), by=g.user)
    db.session.commit()
