"""SCIM 2.0 (RFC 7643/7644) under /scim/v2, for identity providers."""

from roster.entrypoints.web.scim.router import router

__all__ = ["router"]
