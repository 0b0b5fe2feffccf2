"""Where the keyboard's focus is, and whether a person can see it (WCAG 2.2: 2.4.7 Focus
Visible, 2.4.11 Focus Not Obscured, 1.4.11 Non-text Contrast for the ring)."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Page

# The focused element's ring as the browser draws it (computed style), the colour it stands
# against (the first opaque background under the ring), and whether anything covers the
# element's middle (a sticky header).
_FOCUS = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    const channels = (color) => (color.match(/[\\d.]+/g) || []).map(Number);
    const luminance = (color) => {
        const [r, g, b] = channels(color).slice(0, 3).map((v) => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    // What the ring is painted on: the element itself when the ring is drawn inside it, else
    // whatever lies under the ring's middle beside the element (a positioned element such as
    // the skip link lies over the top bar, not over its parent).
    const box = el.getBoundingClientRect();
    const offset = parseFloat(style.outlineOffset), ring = parseFloat(style.outlineWidth);
    let behind = el.parentElement;
    if (offset < 0) {
        behind = el;
    } else {
        const gap = offset + ring / 2;
        const x = box.left - gap >= 0 ? box.left - gap : box.right + gap;
        const under = document.elementsFromPoint(x, box.top + box.height / 2)
            .find((other) => other !== el && !el.contains(other));
        if (under) behind = under;
    }
    let background = "rgb(255, 255, 255)";
    for (; behind; behind = behind.parentElement) {
        const color = getComputedStyle(behind).backgroundColor;
        const alpha = channels(color)[3];
        if (color !== "transparent" && (alpha === undefined || alpha === 1)) {
            background = color;
            break;
        }
    }
    const [hi, lo] = [luminance(style.outlineColor), luminance(background)].sort((a, b) => b - a);
    const x = box.left + Math.min(box.width / 2, 8), y = box.top + box.height / 2;
    const top = document.elementFromPoint(x, y);
    return {
        element: el.outerHTML.slice(0, 160),
        text: (el.innerText || el.value || el.getAttribute("aria-label") || "").trim().slice(0, 60),
        outlineStyle: style.outlineStyle,
        outlineWidth: parseFloat(style.outlineWidth),
        outlineColor: style.outlineColor,
        background: background,
        contrast: (hi + 0.05) / (lo + 0.05),
        inView: box.bottom > 0 && box.top < innerHeight && box.right > 0 && box.left < innerWidth,
        covered: top !== null && top !== el && !el.contains(top) && !top.contains(el),
        coveredBy: top ? top.outerHTML.slice(0, 80) : null,
    };
}"""


def focused(page: "Page") -> dict[str, Any] | None:
    return page.evaluate(_FOCUS)


def expect_focus_visible(page: "Page") -> dict[str, Any]:
    """The focused element shows a ring of at least 2 px at 3:1 or more against what is behind
    it, in the viewport and not under anything else. Returns what it measured."""
    seen = focused(page)
    assert seen is not None, "nothing has the focus"
    assert seen["outlineStyle"] not in ("none", "hidden") and seen["outlineWidth"] >= 2, seen
    assert seen["contrast"] >= 3, seen
    assert seen["inView"] and not seen["covered"], seen
    return seen
