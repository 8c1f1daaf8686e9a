"""The `roster` command line."""
