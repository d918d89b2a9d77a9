"""Findings in the database: recorded from the cross-check, worked through a human lifecycle.

``computed`` turns the core's findings into plain records (no Django); ``recording`` upserts
them by fingerprint; ``lifecycle`` changes a finding's status and keeps the decisions' history.
"""
