"""Doing a practice simulation in the browser as a learner who knows the right actions (from its file)."""

from playwright.sync_api import expect

from tests.e2e.browser import t


def do_step(page, step, wrong_first: bool = False, hint: bool = False) -> None:
    """One step: optionally a wrong button first (and a hint), then the right action, then Continue/Finish."""
    panel = page.locator("[data-practice]")
    expect(panel.get_by_role("heading", name=step.title, exact=True)).to_be_visible()
    if wrong_first:
        panel.get_by_role("button", name=step.wrong[0], exact=True).click()
        expect(panel.get_by_text(t("Not quite."))).to_be_visible()
        if hint:
            panel.get_by_role("button", name=t("Show a hint")).click()
            expect(panel.get_by_text(step.hints[0])).to_be_visible()
    if step.action == "tap":
        panel.get_by_role("button", name=step.right, exact=True).click()
    else:
        panel.get_by_label(step.label).fill(step.right)
        panel.get_by_role("button", name=t("Confirm")).click()
    expect(panel.get_by_text(t("Right!"))).to_be_visible()
    panel.locator("form.practice-form button").filter(has_text=t("Continue")).or_(
        panel.locator("form.practice-form button").filter(has_text=t("Finish"))).click()


def do_simulation(page, steps) -> None:
    page.get_by_role("button", name=t("Start the practice")).click()
    for step in steps:
        do_step(page, step)
    expect(page.get_by_text(t("You finished the practice"))).to_be_visible()
