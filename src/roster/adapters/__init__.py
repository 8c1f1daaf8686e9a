"""Adapters: storage, hashing and everything that talks to the outside."""
