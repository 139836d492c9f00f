"""GET/POST /providers, GET/PATCH /providers/{id}: service providers, read by admins and supervisors."""

from flask import g
from sqlalchemy import select

from backend.api import Blueprint
from backend.auth.access import roles
from backend.errors import NotFound
from backend.extensions import db
from backend.pagination import paginate
from backend.providers import services
from backend.providers.models import Provider
from schemas.providers import (
    ProviderCreateSchema,
    ProviderListArgs,
    ProviderPageSchema,
    ProviderSchema,
    ProviderUpdateSchema,
)

blp = Blueprint("providers", __name__, url_prefix="/api/v1/providers", description="Service providers")


@blp.get("")
@roles("admin", "supervisor")
@blp.arguments(ProviderListArgs, location="query")
@blp.response(200, ProviderPageSchema)
def list_providers(args):
    query = select(Provider)
    if "is_active" in args:
        query = query.where(Provider.is_active == args["is_active"])
    if "q" in args:
        query = query.where(Provider.name.contains(args["q"], autoescape=True))
    return paginate(query.order_by(Provider.name, Provider.id), page=args["page"], per_page=args["per_page"])


@blp.get("/<int:provider_id>")
@roles("admin", "supervisor")
@blp.response(200, ProviderSchema)
def get_provider(provider_id):
    return _provider(provider_id)


@blp.post("")
@roles("admin")
@blp.arguments(ProviderCreateSchema)
@blp.response(201, ProviderSchema)
def create_provider(args):
    provider = services.create_provider(args, by=g.user)
    db.session.commit()
    return provider


@blp.patch("/<int:provider_id>")
@roles("admin")
@blp.arguments(ProviderUpdateSchema)
@blp.response(200, ProviderSchema)
def update_provider(args, provider_id):
    """Change a provider; `is_active: false` disables it (no new plans name it)."""
    provider = services.update_provider(_provider(provider_id), args, by=g.user)
    db.session.commit()
    return provider


def _provider(provider_id: int) -> Provider:
    provider = db.session.get(Provider, provider_id)
    if provider is None:
        raise NotFound("provider")
    return provider
