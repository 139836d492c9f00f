"""Page-number pagination for list endpoints: {"items": [...], "meta": {...}}."""

from backend.extensions import db


def paginate(query, *, page: int, per_page: int) -> dict:
    result = db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)
    return {
        "items": result.items,
        "meta": {"page": page, "per_page": per_page, "total": result.total, "pages": result.pages},
    }
