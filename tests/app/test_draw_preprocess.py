"""MNIST-style preprocessing of drawings (app/draw/preprocess.py, NumPy only)."""

import numpy as np

from app.draw.preprocess import area_weights, centre_of_mass, mnist_style


def ring(size=280, centre=(100, 170), inner=60, outer=80):
    rows, columns = np.mgrid[:size, :size]
    radius = np.hypot(rows - centre[0], columns - centre[1])
    return ((radius > inner) & (radius < outer)).astype(np.uint8) * 255


def test_a_vertical_line_is_centred_scaled_to_20_pixels_and_in_range():
    drawing = np.zeros((280, 280), dtype=np.uint8)
    drawing[30:230, 200:220] = 255  # off-centre, tall and thin
    digit = mnist_style(drawing)
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert 0.0 <= digit.min() and digit.max() <= 1.0
    row, column = centre_of_mass(digit)
    assert abs(row - 14) < 0.5 and abs(column - 14) < 0.5
    row_coverage = digit.max(axis=1)
    assert np.isclose(row_coverage.sum(), 20.0, atol=0.01)  # the longer side spans the 20-pixel box
    assert np.count_nonzero(row_coverage) <= 21  # (a fractional centring shift can share an edge row)
    assert np.flatnonzero(digit.any(axis=0)).size <= 3  # the aspect ratio is kept: still a thin line


def test_a_circle_is_centred_with_anti_aliased_grey_levels():
    digit = mnist_style(ring())
    row, column = centre_of_mass(digit)
    assert abs(row - 14) < 0.5 and abs(column - 14) < 0.5
    assert 0.0 <= digit.min() and digit.max() <= 1.0
    assert ((digit > 0.05) & (digit < 0.95)).any()  # edges are grey, not hard-thresholded


def test_a_blank_pad_gives_an_all_zero_field():
    assert not mnist_style(np.zeros((280, 280), dtype=np.uint8)).any()
    assert not mnist_style(np.zeros((5, 7), dtype=np.float32)).any()


def test_other_field_sizes_and_float_input():
    digit = mnist_style(ring().astype(np.float32) / 255, field=32, box=23)
    assert digit.shape == (32, 32)
    row, column = centre_of_mass(digit)
    assert abs(row - 16) < 0.5 and abs(column - 16) < 0.5


def test_area_weights_preserve_total_coverage():
    weights = area_weights(280, 20 / 280, 4.0, 28)
    assert np.isclose(weights.sum(), 20.0)  # 280 input pixels of width 1/14 cover 20 output pixels
    assert np.allclose(weights.sum(axis=1)[4:24], 1.0)


def test_the_crop_is_found_alike_in_uint8_and_float_and_faint_pixels_do_not_widen_it():
    """Bounds are read from the image as given (only the inked crop is converted): grey 5 of 255 (0.0196) is
    below the 0.02 ink threshold, grey 6 (0.0235) above, in either dtype."""
    from app.draw.preprocess import ink_bounds, mnist_placed

    drawing = ring()
    drawing[10, 10] = 5  # fainter than ink: ignored
    as_float = drawing.astype(np.float32) / 255.0
    assert ink_bounds(drawing) == ink_bounds(as_float) == (slice(21, 180), slice(91, 250))
    digit, placement = mnist_placed(drawing)
    float_digit, float_placement = mnist_placed(as_float)
    np.testing.assert_array_equal(digit, float_digit)
    assert placement == float_placement
    drawing[10, 10] = 6  # just over the threshold: now part of the ink
    assert ink_bounds(drawing) == ink_bounds(drawing.astype(np.float32) / 255.0) == (slice(10, 180), slice(10, 250))
