"""A dashboard view behind another tab draws nothing (issue 21: panels drawing what nobody sees slowed the
app's training), and shows everything recorded meanwhile as soon as its tab is clicked."""

import engine
from app.dashboard.curves_panel import REDRAW_INTERVAL_MS
from tests.app.gui_helpers import click_tab, shown_dashboard


def steps(first, count):
    return [engine.training.StepEvent(step=step, epoch=0, loss=1.0 / step, batch_accuracy=0.5, learning_rate=1e-3,
                                      samples_per_second=100.0, elapsed=0.1 * step)
            for step in range(first, first + count)]


def epoch_end(epoch, step):
    return engine.training.EpochEvent(epoch=epoch, step=step, train_loss=0.5, train_accuracy=0.8, val_loss=0.6,
                                      val_accuracy=0.75, improved=True, elapsed=1.0)


class _Run:
    name = "run 1: test"


def drawn(plot, index=0):
    """The x values the plot's ``index``-th curve shows (per step: 0; validation loss, one per epoch: 2)."""
    x_data = plot.listDataItems()[index].xData
    return [] if x_data is None else x_data.tolist()


def test_hidden_curves_draw_nothing_and_catch_up_when_their_tab_is_clicked(qtbot):
    _window, dashboard = shown_dashboard(qtbot)
    curves, tabs = dashboard.curves, dashboard.views.tabBar()
    curves.begin_run(_Run())
    click_tab(tabs, "Filters")
    assert not curves.isVisible()
    curves.add_steps(steps(1, 5))  # what the run controller hands it as training reports
    curves.add_epoch(epoch_end(0, 5))
    dashboard.hold_redraws(True)  # a stroke on the draw pad starts and ends while the tab is hidden
    curves.add_steps(steps(6, 3))
    dashboard.hold_redraws(False)
    qtbot.wait(REDRAW_INTERVAL_MS + 200)  # past the usual redraw
    assert curves.records[-1].steps == list(range(1, 9))  # recorded...
    assert drawn(curves.loss_plot) == [] and drawn(curves.loss_plot, 2) == []  # ...but drawn for nobody
    click_tab(tabs, "Curves")
    assert drawn(curves.loss_plot) == list(range(1, 9)) and drawn(curves.loss_plot, 2) == [5]  # at once
    assert drawn(curves.accuracy_plot) == list(range(1, 9))
    curves.add_steps(steps(9, 2))  # shown: new steps are drawn by the usual redraw
    qtbot.waitUntil(lambda: drawn(curves.loss_plot) == list(range(1, 11)), timeout=REDRAW_INTERVAL_MS + 2_000)
    assert dashboard.shutdown(timeout_ms=10_000)


def test_the_boundary_tab_shows_only_while_a_2d_toy_set_of_classes_is_chosen(qtbot):
    """Nine tab titles do not fit a 1280-pixel window, and on MNIST the Boundary tab has nothing to draw."""
    from app.dashboard.run_data import toy_title
    from tests.app.gui_helpers import choose_in_combo

    _window, dashboard = shown_dashboard(qtbot)
    form, tabs = dashboard.training_panel.form, dashboard.views
    choose_in_combo(form.dataset, toy_title("spiral"))
    assert tabs.isTabVisible(tabs.indexOf(dashboard.boundary))
    click_tab(tabs.tabBar(), "Boundary")
    choose_in_combo(form.dataset, toy_title("sine"))  # values, not classes: no boundary
    assert not tabs.isTabVisible(tabs.indexOf(dashboard.boundary))
    assert tabs.currentWidget() is dashboard.curves  # not left on a hidden tab
    choose_in_combo(form.dataset, form.dataset.itemText(form.dataset.findData("mnist")))
    assert not tabs.isTabVisible(tabs.indexOf(dashboard.boundary))
    assert dashboard.shutdown(timeout_ms=10_000)
