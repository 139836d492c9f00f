"""GET/POST /providers, GET/PATCH /providers/{id}: service providers, read by admins and supervisors
(a provider manager reads their own); GET /providers/{id}/workforce: hours and certification."""

from flask import g
from sqlalchemy import select

from backend.api import Blueprint
from backend.auth.access import roles
from backend.errors import NotFound
from backend.extensions import db
from backend.pagination import paginate
from backend.providers import services, workforce
from backend.providers.models import Provider
from backend.scope import providers_clause, scoped_or_404
from schemas.providers import (
    ProviderCreateSchema,
    ProviderListArgs,
    ProviderPageSchema,
    ProviderSchema,
    ProviderUpdateSchema,
    WorkforceArgs,
    WorkforceSchema,
)

blp = Blueprint("providers", __name__, url_prefix="/api/v1/providers", description="Service providers")


@blp.get("")
@roles("admin", "supervisor", "provider_manager")
@blp.arguments(ProviderListArgs, location="query")
@blp.response(200, ProviderPageSchema)
def list_providers(args):
    query = select(Provider).where(providers_clause(g.user))
    if "is_active" in args:
        query = query.where(Provider.is_active == args["is_active"])
    if "q" in args:
        query = query.where(Provider.name.contains(args["q"], autoescape=True))
    return paginate(query.order_by(Provider.name, Provider.id), page=args["page"], per_page=args["per_page"])


@blp.get("/<int:provider_id>")
@roles("admin", "supervisor", "provider_manager")
@blp.response(200, ProviderSchema)
def get_provider(provider_id):
    return scoped_or_404(Provider, provider_id, providers_clause(g.user), what="provider")


@blp.get("/<int:provider_id>/workforce")
@roles("admin", "supervisor", "provider_manager")
@blp.arguments(WorkforceArgs, location="query")
@blp.response(200, WorkforceSchema)
def get_workforce(args, provider_id):
    """Service hours per caregiver in the month (verified visits only) and the certification rate
    (持证上岗率) of the provider's active caregivers."""
    provider = scoped_or_404(Provider, provider_id, providers_clause(g.user), what="provider")
    return workforce.figures(provider, args["month"])


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
