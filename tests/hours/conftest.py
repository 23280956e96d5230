"""Shared fixtures: editable course copies and English pages."""

from tests.catalog.conftest import course_copy, english  # noqa: F401
