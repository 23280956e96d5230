"""Signals of the search feature."""

from blinker import Namespace

_signals = Namespace()

# A course's rows were rewritten by the indexer (in the worker): the library records which lessons
# use which items from the same pass.
course_indexed = _signals.signal("search-course-indexed")
