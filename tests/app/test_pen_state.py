"""When the pen counts as lifted (app/draw/pen_state.py): once the stroke's reading is on screen, or after a
timeout; a stroke that starts before that continues the same pen-down."""

from app.draw.pen_state import LIFT_TIMEOUT_MS, PenState


def make(qtbot, current):
    pen = PenState(lambda: current["value"])
    changes = []
    pen.changed.connect(changes.append)
    return pen, changes


def test_the_lift_waits_for_the_strokes_reading(qtbot):
    current = {"value": False}
    pen, changes = make(qtbot, current)
    pen.stroke_started()
    pen.stroke_finished()
    pen.reading_shown()  # bars painted, but of an older drawing
    qtbot.wait(20)
    assert changes == [True]
    current["value"] = True
    pen.reading_shown()
    qtbot.waitUntil(lambda: changes == [True, False], timeout=1000)


def test_a_lift_with_the_reading_already_shown_is_at_once(qtbot):
    pen, changes = make(qtbot, {"value": True})
    pen.stroke_started()
    pen.stroke_finished()
    assert changes == [True, False] and not pen.down


def test_a_reading_that_never_comes_lifts_after_the_timeout(qtbot):
    pen, changes = make(qtbot, {"value": False})
    pen.stroke_started()
    pen.stroke_finished()
    qtbot.wait(LIFT_TIMEOUT_MS // 2)
    assert changes == [True]
    qtbot.waitUntil(lambda: changes == [True, False], timeout=LIFT_TIMEOUT_MS * 4)


def test_a_new_stroke_before_the_lift_continues_the_same_pen_down(qtbot):
    current = {"value": False}
    pen, changes = make(qtbot, current)
    pen.stroke_started()
    pen.stroke_finished()
    pen.stroke_started()  # a second stroke of the same digit (the 4's cross bar)
    qtbot.wait(LIFT_TIMEOUT_MS * 2)
    assert changes == [True] and pen.down
    current["value"] = True
    pen.stroke_finished()
    assert changes == [True, False]
