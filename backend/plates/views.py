"""Door plate endpoints: read, issue, revoke, the QR images, the dynamic code and the printable sheet.

Admins and supervisors only (others 403); a supervisor sees the elders and communities of their
region subtree, and anything outside it answers 404.
"""

from flask import Response, g, url_for
from flask_babel import lazy_gettext as _l

from backend.api import Blueprint
from backend.audit import reads
from backend.auth.access import roles
from backend.clock import utcnow
from backend.elders import services as elders
from backend.elders.models import Elder
from backend.errors import NotFound
from backend.extensions import db
from backend.plates import services
from backend.plates.models import DoorPlate
from backend.regions.models import Region
from backend.scope import region_ids_clause, scoped_or_404
from schemas.plates import (
    DynamicCodeArgs,
    DynamicCodeSchema,
    PlateIssueSchema,
    PlateRevokeSchema,
    PlateSchema,
)
from sync.plates import qr_png, qr_svg

blp = Blueprint("plates", __name__, url_prefix="/api/v1", description="QR door plates (门牌二维码)")
BINARY = {"type": "string", "format": "binary"}  # OpenAPI for a file body


@blp.get("/elders/<int:elder_id>/plate")
@roles("admin", "supervisor")
@blp.response(200, PlateSchema)
def get_plate(elder_id):
    """The elder's active plate and the string its QR code encodes."""
    return _represent(_active_plate_of(elders.visible_elder(elder_id, viewer=g.user)))


@blp.post("/elders/<int:elder_id>/plate")
@roles("admin")
@blp.arguments(PlateIssueSchema)
@blp.response(201, PlateSchema)
def issue_plate(args, elder_id):
    """Issue a plate, or reissue one: the current plate is revoked and stops verifying at once."""
    plate = services.issue_plate(elders.visible_elder(elder_id, viewer=g.user), args["kind"], by=g.user, at=utcnow())
    db.session.commit()
    return _represent(plate)


@blp.post("/elders/<int:elder_id>/plate/revoke")
@roles("admin")
@blp.arguments(PlateRevokeSchema)
@blp.response(200, PlateSchema)
def revoke_plate(args, elder_id):
    """Revoke the elder's active plate (lost, photographed, moved house); scans then answer qr_revoked."""
    plate = _active_plate_of(elders.visible_elder(elder_id, viewer=g.user))
    services.revoke_plate(plate, args["reason"], by=g.user, at=utcnow())
    db.session.commit()
    return _represent(plate)


@blp.get("/elders/<int:elder_id>/plate.png")
@roles("admin", "supervisor")
@blp.response(200, BINARY, content_type="image/png", description="the QR code of the static plate")
def plate_png(elder_id):
    payload = services.plate_payload(_static_plate_of(elders.visible_elder(elder_id, viewer=g.user)))
    return Response(qr_png(payload), mimetype="image/png")


@blp.get("/elders/<int:elder_id>/plate.svg")
@roles("admin", "supervisor")
@blp.response(200, BINARY, content_type="image/svg+xml", description="the QR code of the static plate")
def plate_svg(elder_id):
    payload = services.plate_payload(_static_plate_of(elders.visible_elder(elder_id, viewer=g.user)))
    return Response(qr_svg(payload), mimetype="image/svg+xml")


@blp.get("/elders/<int:elder_id>/plate/code")
@roles("admin")
@blp.arguments(DynamicCodeArgs, location="query")
@blp.response(200, DynamicCodeSchema)
def dynamic_code(args, elder_id):
    """What a dynamic plate's in-home device shows at `at` (default now)."""
    plate = _active_plate_of(elders.visible_elder(elder_id, viewer=g.user))
    if plate.kind != "dynamic":
        raise NotFound("dynamic plate", _l("elder %(elder_id)s's plate is static; it has no dynamic code",
                                               elder_id=elder_id))
    code = services.dynamic_code(plate, args.get("at") or utcnow())
    return code, 200, {"Cache-Control": "no-store"}


@blp.get("/regions/<int:community_id>/plates.pdf")
@roles("admin", "supervisor")
@blp.response(200, BINARY, content_type="application/pdf", description="an A4 sheet of the community's plates")
def plates_pdf(community_id):
    """The printable sheet of a community's active static plates: QR, community, masked name, serial."""
    in_scope = (Region.level == "community") & region_ids_clause(g.user, Region.id)
    community = scoped_or_404(Region, community_id, in_scope, what="community")
    labels = services.sheet_labels(community)
    pdf = services.plates_sheet(community, labels)
    reads.exported("plates_sheet", "pdf", filters={"community_id": community.id}, rows=len(labels),
                   regions=[community.id])
    db.session.commit()
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="plates-{community.id}.pdf"'})


def _active_plate_of(elder: Elder) -> DoorPlate:
    plate = services.active_plate(elder)
    if plate is None:
        raise NotFound("plate", _l("elder %(elder_id)s has no active plate", elder_id=elder.id))
    return plate


def _static_plate_of(elder: Elder) -> DoorPlate:
    plate = _active_plate_of(elder)
    if plate.kind != "static":
        raise NotFound("static plate", _l("elder %(elder_id)s's plate is dynamic; see /plate/code", elder_id=elder.id))
    return plate


def _represent(plate: DoorPlate) -> dict:
    """The plate with what the schema adds: its payload and image links (active static plates)."""
    static = plate.kind == "static" and plate.status == "active"
    fields = ("plate_id", "serial", "elder_id", "kind", "key_version", "status", "issued_at",
              "revoked_at", "revoked_reason")
    return {
        **{name: getattr(plate, name) for name in fields},
        "payload": services.plate_payload(plate) if static else None,
        "png_url": url_for("plates.plate_png", elder_id=plate.elder_id) if static else None,
        "svg_url": url_for("plates.plate_svg", elder_id=plate.elder_id) if static else None,
    }
