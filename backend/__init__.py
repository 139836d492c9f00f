"""CareRounds: the backend for home and community elder-care field work."""

from backend.app import create_app

__all__ = ["create_app"]
