from tests.catalog.conftest import english  # noqa: F401  (pages in English, as in the catalogue tests)
from tests.quizzes.conftest import all_types_course, setup  # noqa: F401  (the quizzes' fixtures)
