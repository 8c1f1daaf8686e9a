"""Roster: a self-hostable user-lifecycle service for SaaS products."""

__version__ = "0.1.0"
