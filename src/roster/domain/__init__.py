"""Pure domain: statuses, routes, the transition table and the User aggregate.

Nothing here imports a framework, reads a clock or does I/O.
"""
