"""Reading quiz answers from a posted form (plain HTML form or the autosave script's FormData)."""


def shown_ids(form) -> set[int]:
    """The question ids the posted page showed (its `shown` fields)."""
    return {int(v) for v in form.getlist("shown") if v.isdigit()}


def responses_from_form(questions, form) -> dict:
    """Raw responses of the questions the page showed (`shown`), keyed by question id.

    A question listed in `shown` with no field means "cleared" (e.g. every checkbox unticked).
    """
    shown = shown_ids(form)
    responses = {}
    for question in questions:
        if question.id not in shown:
            continue
        name = f"q{question.id}"
        if question.type in ("single", "multiple", "true-false"):
            responses[question.id] = form.getlist(name)
        elif question.type in ("short", "numeric", "essay"):
            responses[question.id] = [form.get(name, "")]
        elif question.type == "matching":
            responses[question.id] = {o["id"]: form.get(f"{name}-{o['id']}") for o in question.options
                                      if form.get(f"{name}-{o['id']}")}
        elif question.type == "ordering":
            positions = []
            for index, option in enumerate(question.options):
                raw = form.get(f"{name}-{option['id']}", "")
                positions.append((int(raw) if raw.isdigit() else 10_000, index, option["id"]))
            chosen = [p for p in positions if p[0] < 10_000]
            responses[question.id] = [p[2] for p in sorted(positions)] if chosen else []
    return responses


# The page's script numbers each change of an answer (milliseconds, kept increasing); JavaScript's
# safe integers bound what is accepted. Anything else counts as a plain post (no version).
_MAX_VERSION = 2**53


def versions_from_form(form) -> dict[int, int]:
    """The page's version of each answer it sends (`v<question id>` fields), keyed by question id."""
    versions = {}
    for name, raw in form.items():
        if name[:1] == "v" and _digits(name[1:]) and _digits(raw) and int(raw) < _MAX_VERSION:
            versions[int(name[1:])] = int(raw)
    return versions


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()
