from tests.catalog.conftest import course_copy, english  # noqa: F401 - the catalogue tests' fixtures
from tests.practice.conftest import practice_course, practice_folder, simulation_lesson  # noqa: F401
