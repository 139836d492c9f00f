"""Unit tests of the sync package: no Flask app, no database."""
