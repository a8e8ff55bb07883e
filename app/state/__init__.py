"""A session's state: the param models that are its single source of truth (settings, limits)."""
