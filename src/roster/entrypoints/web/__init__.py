"""The web: REST API (/api/v1), admin dashboard (/admin) and SCIM (/scim/v2)."""
