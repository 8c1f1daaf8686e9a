"""Entrypoints: the web app (API, dashboard, SCIM) and the CLI. Parse, call, shape."""
