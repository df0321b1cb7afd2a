"""Layout checks a person would notice: buttons big enough to hit, on screen, not on top of
each other; and screenshots saved under artifacts/mobile/ for a human to look at."""

from __future__ import annotations

from pathlib import Path

from kivy.uix.button import Button
from kivy.uix.widget import Widget

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "mobile"
MIN_TOUCH_DP = 48  # Android's minimum touch target; tests run at density 1, so px == dp
PHONE = (412, 860)  # a common phone in portrait, in dp
TABLET = (1280, 800)  # a 10" tablet in landscape


def _visible(widget: Widget) -> bool:
    node: Widget | None = widget
    while node is not None and node is not node.parent:
        if node.opacity == 0 or node.width <= 0 or node.height <= 0:
            return False
        node = node.parent if isinstance(node.parent, Widget) else None
    return True


def _in_view(widget: Widget) -> bool:
    """False for widgets scrolled out of their ScrollView (they are not on screen to touch)."""
    from kivy.uix.scrollview import ScrollView

    x, y = widget.to_window(*widget.pos)
    node = widget.parent
    while isinstance(node, Widget) and node is not node.parent:
        if isinstance(node, ScrollView):
            sx, sy = node.to_window(*node.pos)
            if y + widget.height <= sy or y >= sy + node.height or x + widget.width <= sx or x >= sx + node.width:
                return False
        node = node.parent
    return True


def _scrolls(widget: Widget) -> bool:
    from kivy.uix.scrollview import ScrollView

    node = widget.parent
    while isinstance(node, Widget) and node is not node.parent:
        if isinstance(node, ScrollView):
            return True
        node = node.parent
    return False


def buttons(root: Widget) -> list[Button]:
    """Buttons a person can see and reach, in window coordinates."""
    return [w for w in root.walk(restrict=True) if isinstance(w, Button) and _visible(w) and _in_view(w)]


def window_box(widget: Widget) -> tuple[float, float, float, float]:
    x, y = widget.to_window(*widget.pos)
    return x, y, x + widget.width, y + widget.height


def check_touch_targets(root: Widget, size: tuple[int, int]) -> list[str]:
    """Problems with the visible buttons: too small, off screen, or overlapping another."""
    problems: list[str] = []
    found = buttons(root)
    boxes = [(b, window_box(b)) for b in found]
    for button, (x0, y0, x1, y1) in boxes:
        name = repr(button.text)
        if button.height < MIN_TOUCH_DP or button.width < MIN_TOUCH_DP:
            problems.append(f"{name} is {button.width:.0f}x{button.height:.0f} dp")
        # inside a scroll view a button may be half scrolled out: only the sides must fit
        vertical_ok = _scrolls(button) or (y0 >= -1 and y1 <= size[1] + 1)
        if x0 < -1 or x1 > size[0] + 1 or not vertical_ok:
            problems.append(f"{name} is off screen at {x0:.0f},{y0:.0f}-{x1:.0f},{y1:.0f}")
    for i, (a, (ax0, ay0, ax1, ay1)) in enumerate(boxes):
        for b, (bx0, by0, bx1, by1) in boxes[i + 1 :]:
            if min(ax1, bx1) - max(ax0, bx0) > 1 and min(ay1, by1) - max(ay0, by0) > 1:
                problems.append(f"{a.text!r} overlaps {b.text!r}")
    return problems


def save_screenshot(name: str) -> Path:
    """What the window shows now (Window.screenshot numbers its files; we rename to `name`)."""
    from kivy.core.window import Window

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    taken = Window.screenshot(str(ARTIFACTS / f"{name}-.png"))
    Path(taken).replace(path)
    return path
