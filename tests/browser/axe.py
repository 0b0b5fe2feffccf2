"""axe-core in a browser test: the page as it stands, checked against WCAG 2.0, 2.1 and 2.2 at
levels A and AA. A serious or critical violation fails the test with each rule, what it asks
and the elements that break it.

    expect_accessible(page)                      # the whole page, now
    expect_accessible(page, "the open dialog")   # after a click: a state only interaction reaches

axe is a test-only file (tests/browser/vendor/, never served). The desk's Content Security
Policy allows no inline script, so a <script> tag with axe's text would be refused (and the
page's watch would fail the test on the violation). Playwright's evaluate runs through the
DevTools protocol, which the policy does not govern: axe is defined that way, and the desk's
policy stays as it is.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Page

AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING = ("serious", "critical")

# Read once per test process; ";void 0" after a newline keeps evaluate from calling whatever the
# bundle's last expression is, and from reading a trailing comment as the end of the script.
_SOURCE: str | None = None


def _source() -> str:
    global _SOURCE
    if _SOURCE is None:
        _SOURCE = AXE_JS.read_text() + "\n;void 0;"
    return _SOURCE


def axe_violations(page: "Page", known: tuple[tuple[str, str], ...] = ()) -> list[dict[str, Any]]:
    """axe's serious and critical violations on the page as it stands. ``known`` pairs a rule
    with a CSS selector: that rule's findings on elements the selector matches are left out (a
    problem whose fix lies outside the desk's code, each named where it is passed)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_source())
    results = page.evaluate(
        """async ([tags, known]) => {
            const results = await axe.run(document, {
                runOnly: {type: "tag", values: tags},
                resultTypes: ["violations"],
            });
            const isKnown = (rule, node) => known.some(([id, selector]) => {
                const element = document.querySelector(node.target[0]);
                return id === rule && element !== null && element.matches(selector);
            });
            return results.violations
                .map((v) => ({...v, nodes: v.nodes.filter((n) => !isKnown(v.id, n))}))
                .filter((v) => v.nodes.length > 0);
        }""",
        [WCAG_AA, [list(pair) for pair in known]],
    )
    return [v for v in results if v["impact"] in FAILING]


def describe(violations: list[dict[str, Any]], where: str) -> str:
    """One paragraph per rule: its id and impact, what it asks, and each element with its HTML
    and axe's reason."""
    lines = []
    for violation in violations:
        lines.append(
            f"{where}: {violation['id']} ({violation['impact']}): {violation['help']}"
            f" <{violation['helpUrl']}>"
        )
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            lines.append(f"    {target}\n      {node['html'][:300]}")
            if node.get("failureSummary"):
                summary = node["failureSummary"].replace("\n", "\n        ")
                lines.append(f"        {summary}")
    return "\n".join(lines)


def accessibility_problems(
    page: "Page", where: str = "", known: tuple[tuple[str, str], ...] = ()
) -> str:
    """The page's serious and critical violations, described; empty when there are none."""
    violations = axe_violations(page, known)
    return describe(violations, where or page.url) if violations else ""


def expect_accessible(
    page: "Page", where: str = "", known: tuple[tuple[str, str], ...] = ()
) -> None:
    problems = accessibility_problems(page, where, known)
    assert not problems, f"axe (WCAG 2.2 A/AA) found serious violations:\n{problems}"
