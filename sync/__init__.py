"""The sync protocol as plain Python: QR plates, TOTP, cursors, digests, item rules, phone client.

Nothing in this package imports Flask or SQLAlchemy; backend/ imports from here, never the reverse.
"""
