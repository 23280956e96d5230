"""The shape of lms/, read from the imports (ast, including imports inside functions).

- the module import graph has no cycle;
- core imports no feature (features build on core, never the other way);
- no feature imports another feature's `operations`: features change each other's state through
  the events of lms.core.signals (completion: attempt graded → course/program completed → certificate);
- the feature graph (any import, models and queries included) has no cycle but through the
  back edges listed in FEATURE_BACK_EDGES, a list that only shrinks.
"""

import ast
import graphlib
import pathlib

import pytest

LMS = pathlib.Path(__file__).resolve().parent.parent / "lms"

# Features that still import one from above them (issue 18), with why; without these edges the
# feature graph is acyclic. Layers, bottom up: catalog < enrollment < practice < quizzes < completion
# < programs < library < search (and every other feature around them; core below all).
FEATURE_BACK_EDGES = {
    # The course page (catalog.controllers) composes what features above catalog know about the course:
    # the learner's enrolment and progress, passed quizzes (by their grading method), simulations.
    ("catalog", "enrollment"): "course page: enrolment and progress; course import keeps enrolments",
    ("catalog", "quizzes"): "course page lists quizzes and which are passed; course import/export parses and writes quiz files",
    ("catalog", "practice"): "lesson rendering and course import read the simulation format (lms/practice/format.py)",
    ("catalog", "search"): "the catalogue's search box uses the one search",
    # Program enrolment lives in enrollment (it enrols course by course); prerequisites are programs' rows.
    ("enrollment", "programs"): "enrolment checks prerequisites; program enrolment",
    ("library", "search"): "the library's search box and its text extraction use lms.search",
}


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(LMS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Module → the lms modules it imports (`from lms.x import y` names the submodule y when there is one)."""
    modules = {_module_name(path): path for path in LMS.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets |= {f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module
                            for alias in node.names}
        graph[name] = {target for target in targets if target in modules and target != name}
    return graph


def _feature(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and (LMS / parts[1]).is_dir()) else None


@pytest.fixture(scope="module")
def imports():
    return _imports()


def test_the_module_import_graph_has_no_cycle(imports):
    try:
        tuple(graphlib.TopologicalSorter(imports).static_order())
    except graphlib.CycleError as error:
        pytest.fail(f"import cycle: {' → '.join(error.args[1])}")


def test_core_imports_no_feature(imports):
    leaks = {(source, target) for source, targets in imports.items() if _feature(source) == "core"
             for target in targets if _feature(target) not in (None, "core")}
    assert leaks == set()


def _feature_graph(imports) -> dict[str, set[str]]:
    graph = {}
    for source, targets in imports.items():
        if _feature(source):
            graph.setdefault(_feature(source), set()).update(
                _feature(target) for target in targets if _feature(target) not in (None, _feature(source)))
    return graph


def test_the_feature_graph_has_no_cycle_but_the_listed_back_edges(imports):
    """A feature builds on the features below it and hears from those above through lms.core.signals."""
    graph = _feature_graph(imports)
    present = {(source, target) for source, targets in graph.items() for target in targets}
    assert set(FEATURE_BACK_EDGES) - present == set(), "gone: take them off FEATURE_BACK_EDGES"
    layered = {source: targets - {target for edge, target in FEATURE_BACK_EDGES if edge == source}
               for source, targets in graph.items()}
    try:
        tuple(graphlib.TopologicalSorter(layered).static_order())
    except graphlib.CycleError as error:
        pytest.fail(f"feature cycle: {' → '.join(error.args[1])}: announce an event or answer a request signal")


def test_no_feature_calls_another_features_operations(imports):
    calls = {(_feature(source), _feature(target)) for source, targets in imports.items() for target in targets
             if target.endswith(".operations") and _feature(source) and _feature(source) != _feature(target)}
    assert calls == set(), "announce an event (lms.core.signals) or read through queries"


def test_the_completion_features_meet_only_through_events(imports):
    """Passing the last quiz used to walk enrollment → quizzes → enrollment → programs → certificates."""
    knot = {"enrollment", "quizzes", "programs", "certificates", "completion"}
    calls = {(source, target) for source, targets in imports.items() for target in targets
             if _feature(source) in knot and _feature(target) in knot - {_feature(source)}
             and target.endswith(".operations")}
    assert calls == set()


def test_every_view_runs_in_the_request_lifecycle(app):
    """lms.core.lifecycle.view: one transaction per request, committed once or rolled back."""
    unwrapped = sorted(rule.endpoint for rule in app.url_map.iter_rules()
                       if rule.endpoint != "static" and not getattr(app.view_functions[rule.endpoint], "lms_lifecycle", False))
    assert unwrapped == []


# Where roles may be named: the models' permission methods, the role → ability table, the scope rule.
# accounts/viewer.py: the light stand-in for the User model on the most-read pages, with the model's own rules.
ROLE_RULES = {"core/permissions.py", "accounts/scope.py", "accounts/viewer.py"}


def test_roles_are_checked_only_on_models_and_in_core_permissions():
    """Views, queries and templates ask `can(ability)` or a model's `can_*`, never a role by name."""
    named = []
    for path in LMS.rglob("*.py"):
        relative = path.relative_to(LMS).as_posix()
        if path.name == "models.py" or relative in ROLE_RULES:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("is_admin", "has_role"):
                named.append(f"{relative}:{node.lineno}")
    templates = LMS.parent / "templates"
    named += [f"{path.relative_to(templates)}" for path in templates.rglob("*.html")
              if "is_admin" in path.read_text(encoding="utf-8") or "has_role" in path.read_text(encoding="utf-8")]
    assert named == []


def _view_modules():
    """Modules that define views: they use lms.core.lifecycle's `@view`."""
    for path in sorted(LMS.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(node, ast.FunctionDef) and any(isinstance(d, ast.Name) and d.id == "view"
                                                         for d in node.decorator_list) for node in ast.walk(tree)):
            yield path.relative_to(LMS).as_posix(), tree


def test_views_never_commit_or_roll_back_by_themselves():
    """`@view` commits once on success and rolls back a refusal or an error; a view that must commit
    early says why beside `lifecycle.save_now()`, one that drops a half-done operation calls `discard()`."""
    calls = [f"{name}:{node.lineno}" for name, tree in _view_modules() for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and node.func.attr in ("commit", "rollback") and ast.unparse(node.func.value) == "db.session"]
    assert calls == []


# Where a view module may still answer 404 by hand, and why.
OWN_404 = {
    "core/controllers.py": "send_stored: a stored-file key that the store refuses (ValueError) names no file",
}


def test_views_load_through_the_lifecycle_not_by_hand():
    """`@load`/`@allowed`, `get_or_404` or `found` (lms.core.lifecycle) instead of a query then `abort(404)`."""
    by_hand = [f"{name}:{node.lineno}" for name, tree in _view_modules() if name not in OWN_404
               for node in ast.walk(tree) if isinstance(node, ast.Call) and ast.unparse(node) == "abort(404)"]
    assert by_hand == []


def test_no_function_in_a_view_module_is_over_60_lines():
    """Views stay short (load, check, call an operation, answer): every function of every module that
    defines views, `controllers.py` or not, from its `def` to its last line."""
    paths = {path.relative_to(LMS).as_posix() for path in LMS.glob("*/controllers.py")}
    modules = dict(_view_modules()) | {name: ast.parse((LMS / name).read_text(encoding="utf-8")) for name in paths}
    long = [f"{name}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for name, tree in sorted(modules.items()) for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno + 1 > 60]
    assert long == []


_MUTATORS = {"append", "extend", "insert", "add", "update", "setdefault", "pop", "popitem", "remove", "discard",
             "clear", "__setitem__", "__delitem__"}


def _foreign_names(name: str, tree) -> set[str]:
    """The names a module binds to another feature's modules or objects by its imports."""
    own, names = _feature(name), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if _feature(node.module) not in (None, own) or (node.module == "lms" and any(
                    _feature(f"lms.{alias.name}") not in (None, own) for alias in node.names)):
                names |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.asname for alias in node.names if alias.asname and _feature(alias.name) not in (None, own)}
    return names


def _root(node) -> tuple[str | None, int]:
    """The name an attribute/subscript chain starts from, and how many steps lead to it."""
    steps = 0
    while isinstance(node, ast.Attribute | ast.Subscript):
        node, steps = node.value, steps + 1
    return (node.id if isinstance(node, ast.Name) else None), steps


def _writes_into(tree, foreign: set[str]):
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign | ast.Delete):
            targets = node.targets if isinstance(node, ast.Delete) else [node.target]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _MUTATORS:
            targets = [node.func.value]  # foreign.REGISTRY.update(…): the object called on is written into
            if _root(targets[0])[1] == 0:
                continue  # foreign.update(…): a function of that module, called
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr"):
            targets = node.args[:1]
        for target in targets:
            root, steps = _root(target)
            if root in foreign and (steps or isinstance(node, ast.Call)):
                yield node.lineno, ast.unparse(target)


def test_no_feature_writes_into_another_features_module():
    """A registry another feature fills (`other.REGISTRY[key] = …`, `other.REGISTRY.update(…)`, `other.x = …`)
    belongs in lms.core (e.g. lms.core.page_rows): features reach each other through core and events."""
    writes = []
    for path in sorted(LMS.rglob("*.py")):
        name = _module_name(path)
        if not _feature(name) or _feature(name) == "core":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        foreign = _foreign_names(name, tree)
        writes += [f"{path.relative_to(LMS).as_posix()}:{line} {target}" for line, target in _writes_into(tree, foreign)]
    assert writes == []
