"""caplint: a static linter for container privileges."""
__version__ = "0.1.0"
