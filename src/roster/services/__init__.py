"""Use cases: each runs in one unit of work and goes through the domain."""
