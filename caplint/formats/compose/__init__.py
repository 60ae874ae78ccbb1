"""Compose files: YAML nodes → one Container per service (`parser.parse`)."""
