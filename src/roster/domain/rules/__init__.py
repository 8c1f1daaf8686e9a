"""Automation rules (PRODUCT §8): a trigger, conditions that must all hold, an action."""
