"""Every stored timestamptz reads back as a Python datetime, even one Python cannot hold.

PostgreSQL keeps times from 4713 BC to 294276 AD and `±infinity`; Python's datetime runs from year
1 to 9999. Such a value, once stored (by a writer before the push refused it, or by hand), made
every read of its row raise: the visit's page, the review queue, the exports mid-stream and every
later push touching its task answered 500. On each connection the app opens, the driver's
timestamptz loaders are wrapped: a value outside EARLIEST..LATEST loads as the nearer bound,
aware and in UTC, so the row still reads, sorts and subtracts, and shows a time nobody can take
for a real one. The driver's own (C) loader does the work; the wrapper costs a call per value.
"""

from datetime import UTC, datetime

from psycopg import DataError
from psycopg.adapt import Loader
from psycopg.pq import Format
from sqlalchemy import event

# A day inside Python's range at each end, so that moving the value into any time zone (exports
# write local times) cannot overflow either.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


class _Readable(Loader):
    """Wraps the loader the connection had for timestamptz in one format."""

    inner: type[Loader]

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        self._load = self.inner(oid, context).load

    def load(self, data):
        try:
            value = self._load(data)
        except DataError:
            return EARLIEST if self._before(bytes(data)) else LATEST
        if value.year == 1 or value.year == 9999:  # near an edge: compare in UTC, which cannot overflow
            return EARLIEST if value < EARLIEST else LATEST if value > LATEST else value
        return value


class _ReadableText(_Readable):
    format = Format.TEXT

    @staticmethod
    def _before(data: bytes) -> bool:  # '-infinity', '0001-12-31 10:00:00+00 BC'; else after 9999
        return data.startswith(b"-") or data.endswith(b" BC")


class _ReadableBinary(_Readable):
    format = Format.BINARY

    @staticmethod
    def _before(data: bytes) -> bool:  # microseconds since 2000-01-01 UTC, signed big-endian
        return int.from_bytes(data, "big", signed=True) < 0


_WRAPPERS: dict[type, type] = {}


def _wrap(connection) -> None:
    oid = connection.adapters.types["timestamptz"].oid
    for readable in (_ReadableText, _ReadableBinary):
        inner = connection.adapters.get_loader(oid, readable.format)
        if inner is not None and not issubclass(inner, _Readable):
            if inner not in _WRAPPERS:
                _WRAPPERS[inner] = type(readable.__name__, (readable,), {"inner": inner})
            connection.adapters.register_loader(oid, _WRAPPERS[inner])


def install(engine) -> None:
    """Wrap the timestamptz loaders of every connection `engine` opens (create_app calls it)."""
    if not event.contains(engine, "connect", _on_connect):
        event.listen(engine, "connect", _on_connect)


def _on_connect(dbapi_connection, _record) -> None:
    _wrap(dbapi_connection)  # the psycopg connection itself
