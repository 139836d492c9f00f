"""The digest of a user's task set, computed identically by the server and by a phone."""

import hashlib
from collections.abc import Iterable

HASH_LENGTH = 32  # hex characters: 128 bits, far beyond any accidental collision


def task_set_digest(items: Iterable[tuple[int, int]]) -> dict:
    """{"count": n, "hash": hex} over (task_id, version) pairs, whatever order they come in.

    The hash is SHA-256 of the lines "<id>:<version>\\n" (decimal, no padding) sorted by id
    ascending, UTF-8 encoded, hex-encoded and cut to its first 32 characters. An empty set
    hashes the empty string.
    """
    pairs = sorted((int(task_id), int(version)) for task_id, version in items)
    ids = [task_id for task_id, _ in pairs]
    if len(set(ids)) != len(ids):
        # A phone holding the same task twice is corrupt; the digest must not hide it.
        raise ValueError("a task id appears twice")
    text = "".join(f"{task_id}:{version}\n" for task_id, version in pairs)
    return {"count": len(pairs), "hash": hashlib.sha256(text.encode()).hexdigest()[:HASH_LENGTH]}


def digests_match(a: dict, b: dict) -> bool:
    return a.get("count") == b.get("count") and a.get("hash") == b.get("hash")
