"""Dockerfiles/Containerfiles → one Image with its stages, users and RUN commands (`parser.parse`)."""
