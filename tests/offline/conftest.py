from tests.catalog.conftest import english  # noqa: F401  (pages in English, as in the catalogue tests)
