from tests.search.conftest import commit_and_index  # noqa: F401  (the same fixture for library tests)
