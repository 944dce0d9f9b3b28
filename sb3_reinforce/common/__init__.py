"""Helpers that depend on no other part of the package: the checks of settings and the command-line argument types."""
