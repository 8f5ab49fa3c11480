"""Organisations, users, roles, scope, login and API tokens."""
