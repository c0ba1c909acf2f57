"""The first launch: the seed CNN with MNIST, the bundled model reading a drawn digit at once, and the
getting-started guide, shown once and reopened from the Help menu."""

from PySide6.QtCore import QPoint, Qt

from app.commands.drawn_digits import DIGIT_STROKES, draw_digit, rounded, wait_for_reading
from app.first_run_guide import STEPS
from app.preferences import Preferences


def test_the_bundled_model_reads_digits_drawn_at_first_launch(main_window, qapp):
    """At once: no training, no download, nothing to choose; every digit drawn with the mouse is read right."""
    panel = main_window.draw_panel
    main_window.draw_dock.raise_()
    for digit in sorted(DIGIT_STROKES):
        panel.pad.clear()
        draw_digit(panel.pad, digit)
        assert wait_for_reading(qapp, panel, timeout_s=20) == digit, panel.note.text()


def test_rounding_a_stroke_keeps_its_ends():
    points = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)]
    smooth = rounded(points, rounds=2)
    assert smooth[0] == points[0] and smooth[-1] == points[-1]
    assert len(smooth) > len(points) and (1.0, 0.0) not in smooth  # the corner is cut


def test_the_guide_shows_on_the_first_launch_only(main_window, qtbot):
    guide = main_window.guide
    assert not guide.isVisible()
    assert main_window.show_guide_on_first_run()
    assert guide.isVisible() and Preferences().guide_shown
    assert guide.step_names() == ["Design", "Train", "Draw"] == [name for name, _text in STEPS]
    guide.close_button.click()
    assert not guide.isVisible()
    assert not main_window.show_guide_on_first_run()  # a later launch
    assert not guide.isVisible()


def test_the_guide_sits_over_the_empty_inspector_and_follows_the_window(main_window, qtbot):
    main_window.show_guide()
    guide, inspector = main_window.guide, main_window.inspector_dock.widget()
    top_left = inspector.mapTo(main_window, QPoint(0, 0))
    assert guide.x() >= top_left.x() and guide.y() >= top_left.y()
    assert guide.x() + guide.width() <= top_left.x() + inspector.width()
    canvas_right = main_window.canvas.mapTo(main_window, QPoint(main_window.canvas.width(), 0)).x()
    assert guide.x() > canvas_right  # the network stays in view
    main_window.resize(1000, 700)
    qtbot.waitUntil(lambda: guide.x() + guide.width() <= main_window.width())


def test_escape_and_help_menu(main_window, qtbot):
    guide = main_window.guide
    main_window.guide_action.trigger()
    assert guide.isVisible()
    with qtbot.waitSignal(guide.dismissed):
        qtbot.keyClick(guide, Qt.Key.Key_Escape)
    assert not guide.isVisible()
    main_window.guide_action.trigger()
    assert guide.isVisible()
