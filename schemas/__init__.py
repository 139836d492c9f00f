"""Marshmallow schemas of every API payload: the contract with phones and clients.

Nothing here imports from backend/; backend/ and sync/ import from here.
"""
