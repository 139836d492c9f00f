"""Access tokens (short-lived JWTs) and opaque refresh tokens."""

import hashlib
import secrets
import time
from datetime import datetime
from functools import lru_cache

import jwt

ALGORITHM = "HS256"


def encode_access_token(secret: str, *, user_id: int, role: str, device_id: str, family_id: str,
                        now: datetime, lifetime) -> str:
    claims = {
        "sub": str(user_id),
        "role": role,
        "did": device_id,
        "fam": family_id,
        "typ": "access",
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access_token(secret: str, token: str) -> dict:
    """Raises jwt.ExpiredSignatureError or jwt.InvalidTokenError.

    A phone sends the same token with every request until it expires, so each worker keeps the
    claims of the tokens it has verified (PyJWT's checks cost more than the empty pull's query).
    The cache is keyed by the exact token and secret, so nothing unverified is ever taken from
    it, and expiry, the one check that changes with time, is made again on every use."""
    claims = _verified(secret, token)
    if claims["exp"] <= _now():  # as jwt.decode judges it, with no leeway
        raise jwt.ExpiredSignatureError("Signature has expired")
    return dict(claims)


@lru_cache(maxsize=4096)
def _verified(secret: str, token: str) -> dict:
    # Every access token ever issued names its family; one that does not could not be revoked.
    claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "typ", "fam"]})
    if claims.get("typ") != "access":
        raise jwt.InvalidTokenError("not an access token")
    return claims


def _now() -> float:
    return time.time()


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    # The token is 256 random bits, so a plain SHA-256 is enough to make a stolen table useless.
    return hashlib.sha256(token.encode()).hexdigest()
