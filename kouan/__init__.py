"""Kouan application core: settings, domain, persistence, auth, API and CLI."""
