"""Shared helpers: tiny deterministic test environments."""
