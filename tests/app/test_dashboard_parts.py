"""The dashboard's pure parts: tiling, filter mosaics, curve smoothing and CSV, histogram heat maps."""

import numpy as np

import engine
from app.dashboard.filters_panel import filter_layers, filter_mosaic
from app.dashboard.histograms_panel import BINS, TensorHistory
from app.dashboard.image_grid import tile
from app.dashboard.run_history import RunRecord, csv_text
from engine.training import EpochEvent, StepEvent


def test_tile_lays_images_out_row_by_row_with_gaps():
    mosaic = tile(np.arange(5 * 2 * 3).reshape(5, 2, 3), columns=3)
    assert mosaic.shape == (2 * 2 + 1, 3 * 3 + 2)
    np.testing.assert_array_equal(mosaic[0:2, 4:7], np.arange(6, 12).reshape(2, 3))  # the second image
    assert np.isnan(mosaic[2]).all() and np.isnan(mosaic[3:5, 8:]).all()  # gap row, empty last cell


def test_filter_mosaics_for_conv_and_first_dense_layers():
    spec = {"nodes": [{"id": "input", "type": "Input", "shape": [1, 28, 28]},
                      {"id": "conv", "type": "Conv2D", "filters": 3, "kernel_size": 5},
                      {"id": "conv2", "type": "Conv2D", "filters": 2, "kernel_size": 3},
                      {"id": "flat", "type": "Flatten"}, {"id": "out", "type": "Dense", "units": 10}]}
    net = engine.build(spec)
    assert list(filter_layers(net)) == ["conv", "conv2"]  # "out" reads conv features, not the image
    weights = net.state_dict()
    mosaic, caption = filter_mosaic(weights, "conv2", "Conv2D", (1, 28, 28))
    assert mosaic.shape == (2 * 4 - 1, 3 * 4 - 1) and "2 filters" in caption
    mlp = engine.build({"nodes": [{"id": "input", "type": "Input", "shape": [1, 28, 28]},
                                  {"id": "flat", "type": "Flatten"}, {"id": "hidden", "type": "Dense", "units": 100}]})
    assert list(filter_layers(mlp)) == ["hidden"]
    mosaic, caption = filter_mosaic(mlp.state_dict(), "hidden", "Dense", (1, 28, 28))
    assert mosaic.shape == (8 * 29 - 1, 8 * 29 - 1) and "first 64 of 100" in caption
    np.testing.assert_array_equal(mosaic[:28, :28], mlp.state_dict()["hidden.kernel"][:, 0].reshape(28, 28))


def test_smoothed_loss_starts_at_the_data_and_csv_has_steps_and_epochs():
    record = RunRecord("run 1", "#000000")
    record.add_steps([StepEvent(i + 1, 0, loss, 0.5, 1e-3, 100.0, i * 0.1) for i, loss in enumerate([2.0, 1.0, 1.0])])
    assert record.smoothed[0] == 2.0 and 1.0 < record.smoothed[-1] < 1.5
    record.add_epoch(EpochEvent(0, 3, 1.3, 0.5, 1.1, 0.6, True, 0.3))
    rows = csv_text([record]).splitlines()
    assert len(rows) == 1 + 3 + 1 and rows[-1] == "run 1,epoch,3,1,1.3,,0.5,1.1,0.6"


def test_histogram_history_counts_every_sampled_value_and_halves_when_full():
    history = TensorHistory(size=10_000)
    rng = np.random.default_rng(0)
    for step in range(1, 301):
        history.add(step, rng.normal(size=10_000).astype(np.float32))
    assert len(history.columns) <= 200 and history.steps[0] == 1 and history.steps[-1] >= 290
    counts, low, high = history.heat_map()
    assert counts.shape == (BINS, len(history.columns)) and low < 0 < high
    assert (counts.sum(axis=0) == len(history.sample)).all()
