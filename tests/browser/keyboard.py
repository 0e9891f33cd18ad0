"""The keyboard alone: Tab and Shift+Tab to move, Enter and Space to act, typing to fill; never the mouse.

Each key press is followed by a look at what has the focus: it must show that it has it (an outline of
at least 2 px whose colour has 3:1 contrast with what is behind it, WCAG 1.4.11) and be on the screen.
`walk` goes once round a page and fails on any control Tab never reached.
"""

from __future__ import annotations

from typing import Any

# What has the focus now, marked as reached (data-kb-reached) and numbered (data-kb-id) for the walk.
_FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  el.dataset.kbReached = "1";
  if (!el.dataset.kbId) el.dataset.kbId = String(document.querySelectorAll("[data-kb-id]").length + 1);
  const rgba = c => (c.match(/[\\d.]+/g) || ["0", "0", "0", "0"]).map(Number);
  const luminance = c => {
    const [r, g, b] = rgba(c).slice(0, 3).map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const alpha = c => { const v = rgba(c); return v.length > 3 ? v[3] : 1; };
  let behind = "rgb(255, 255, 255)";
  for (let p = el.parentElement; p; p = p.parentElement) {
    const colour = getComputedStyle(p).backgroundColor;
    if (alpha(colour) > 0) { behind = colour; break; }
  }
  const style = getComputedStyle(el);
  const [a, b] = [luminance(style.outlineColor), luminance(behind)];
  const box = el.getBoundingClientRect();
  const label = (el.getAttribute("aria-label") || (el.labels && el.labels.length && el.labels[0].textContent)
    || el.textContent || el.getAttribute("name") || el.id || "").trim().replace(/\\s+/g, " ").slice(0, 60);
  return {
    id: el.dataset.kbId,
    what: `${el.tagName.toLowerCase()}${el.type ? "[" + el.type + "]" : ""} "${label}"`,
    target: el.dataset.kbTarget === "1",
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
    style: `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor} on ${behind}`,
    contrast: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
    onScreen: box.width > 0 && box.height > 0 && box.bottom > 0 && box.top < innerHeight
      && box.right > 0 && box.left < innerWidth,
  };
}"""

# The controls of the page Tab should reach and did not: shown, enabled, not taken out of the order; a
# group of radio buttons is one stop (the arrow keys move inside it).
_MISSED = """() => {
  const controls = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]';
  const missed = [], radios = new Map();
  for (const el of document.querySelectorAll(controls)) {
    if (el.disabled || el.tabIndex < 0 || el.closest("[inert]")) continue;
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    const what = `${el.tagName.toLowerCase()} ${(el.getAttribute("aria-label") || el.textContent
      || el.getAttribute("name") || el.id || "").trim().replace(/\\s+/g, " ").slice(0, 60)}`;
    if (el.type === "radio") {
      const group = radios.get(el.name) || {reached: false, what};
      group.reached = group.reached || el.dataset.kbReached === "1";
      radios.set(el.name, group);
    } else if (el.dataset.kbReached !== "1") {
      missed.push(what);
    }
  }
  for (const group of radios.values()) if (!group.reached) missed.push("radio group " + group.what);
  return missed;
}"""


class Keyboard:
    """One page's keyboard, with the checks after each press; `presses` counts them."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.presses = 0

    def press(self, key: str) -> dict[str, Any] | None:
        self.page.keyboard.press(key)
        self.presses += 1
        focused: dict[str, Any] | None = self.page.evaluate(_FOCUSED)
        if focused is not None:
            where = f"{self.page.url}: after {key}, {focused['what']}"
            assert focused["outline"], f"{where} shows no focus outline ({focused['style']})"
            assert focused["contrast"] >= 3, (
                f"{where}: focus outline contrast {focused['contrast']:.2f}:1 ({focused['style']})"
            )
            assert focused["onScreen"], f"{where} has the focus off the screen"
        return focused

    def tab_to(self, locator: Any, *, back: bool = False, limit: int = 250) -> None:
        """Tab (Shift+Tab when `back`) until `locator` has the focus; fails if it never gets it."""
        locator.evaluate("el => { el.dataset.kbTarget = '1'; }")
        try:
            for _ in range(limit):
                focused = self.press("Shift+Tab" if back else "Tab")
                if focused is not None and focused["target"]:
                    return
            raise AssertionError(f"{self.page.url}: {limit} presses of Tab never reached {locator}")
        finally:
            locator.evaluate("el => { delete el.dataset.kbTarget; }")

    def type_into(self, locator: Any, text: str) -> None:
        """Tab to a field, select what it holds (Control+A) and type over it."""
        self.tab_to(locator)
        self.page.keyboard.press("Control+A")
        self.page.keyboard.type(text)

    def activate(self, locator: Any) -> None:
        """Tab to a link or a submit button, press Enter, and wait for the page it opens."""
        self.tab_to(locator)
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")
        self.presses += 1

    def tick(self, locator: Any) -> None:
        """Tab to a checkbox or a radio button and press Space."""
        self.tab_to(locator)
        self.page.keyboard.press("Space")
        self.presses += 1

    def walk(self, limit: int = 400) -> int:
        """Tab once round the whole page, back to where the walk started; every control must have been
        reached. Returns the number of distinct stops."""
        start: str | None = None
        left = False
        seen: set[str] = set()
        for _ in range(limit):
            focused = self.press("Tab")
            if focused is None:
                left = True
                continue
            if start is None:
                start = focused["id"]
            elif focused["id"] == start and left:
                break
            else:
                left = left or focused["id"] != start
            seen.add(focused["id"])
        else:
            raise AssertionError(f"{self.page.url}: Tab did not come round the page in {limit} presses")
        missed = self.page.evaluate(_MISSED)
        assert missed == [], f"{self.page.url}: Tab never reached {missed}"
        return len(seen)
