"""The layers that make images larger, as a decoder does: UpSampling2D and Conv2DTranspose (thin owners of
parameters around ``engine.ops.upsampling`` and ``engine.ops.conv_transpose``)."""

from __future__ import annotations

from engine.design_limits import MAX_SIZE
from engine.layers.base import Field, Layer, describe_shape, require_image
from engine.layers.conv import LearnedFilters, filter_fields, size_pair
from engine.layers.core import activation_of_pass
from engine.ops.conv_transpose import conv_transpose2d_backward, conv_transpose2d_forward, transpose_geometry
from engine.ops.upsampling import upsample_nearest, upsample_nearest_backward

__all__ = ["Conv2DTranspose", "UpSampling2D"]


def _check_output_size(layer, input_shape, out_hw) -> None:
    """A SpecError naming the node where an output side would pass the largest size an axis may have."""
    if max(out_hw) > MAX_SIZE:
        raise layer.error(f"its {describe_shape(input_shape)} input would grow to {out_hw[0]}x{out_hw[1]}, "
                          f"past the largest side of {MAX_SIZE:,}", "output size")


class UpSampling2D(Layer):
    """Repeats each pixel into a block of ``size`` (nearest neighbour): (C, H, W) -> (C, H*sh, W*sw)."""

    type_name = "UpSampling2D"
    fields = {
        "size": Field("size_pair", 2, low=1, high=MAX_SIZE,
                      help="How many times each pixel is repeated, down x across; one number for both."),
    }

    def configure(self, size):
        self.size = size
        self._size = size_pair(size, "size", self.fields["size"])

    @property
    def size_hw(self) -> tuple[int, int]:
        return self._size

    def output_shape(self, input_shapes):
        c, h, w = require_image(self, input_shapes[0], "UpSampling2D")
        out_hw = (h * self._size[0], w * self._size[1])
        _check_output_size(self, input_shapes[0], out_hw)
        return (c, *out_hw)

    def flops(self, input_shapes, output_shape):
        return 0  # copies only

    def forward(self, inputs, training):
        return upsample_nearest(inputs[0], self._size)

    def backward(self, dy, need_input_grads=True):
        return [upsample_nearest_backward(dy, self._size) if need_input_grads else None]


class Conv2DTranspose(LearnedFilters):
    """Learned filters stamped onto a larger image, ``strides`` apart (a Conv2D's gradient, run forward);
    kernel (in_channels, filters, kh, kw)."""

    type_name = "Conv2DTranspose"
    fields = filter_fields(
        strides=Field("size_pair", 1, low=1, high=MAX_SIZE,
                      help="How far apart, down x across, neighbouring inputs stamp their filters: "
                           "the output is this many times larger."),
        padding=Field("choice", "valid", choices=("valid", "same"),
                      help="'valid': the whole stamped image, (in - 1) x stride + kernel; "
                           "'same': exactly in x stride (TensorFlow's rule), cropped evenly."),
    )

    @property
    def stride_hw(self) -> tuple[int, int]:
        return self._strides

    def output_shape(self, input_shapes):
        _, h, w = require_image(self, input_shapes[0], "Conv2DTranspose")
        out_hw, _ = transpose_geometry(h, w, self._kernel, self._strides, self.padding)
        _check_output_size(self, input_shapes[0], out_hw)
        return (self.filters, *out_hw)

    def param_shapes(self, input_shapes):
        channels = require_image(self, input_shapes[0], "Conv2DTranspose")[0]
        kh, kw = self._kernel
        # Keras's fans for a transposed kernel: it reads `filters` values per position and writes `channels`.
        return self._filter_params((channels, self.filters, kh, kw), (self.filters * kh * kw, channels * kh * kw))

    def flops(self, input_shapes, output_shape):
        c, h, w = input_shapes[0]
        f, out_h, out_w = output_shape
        return 2 * c * f * self._kernel[0] * self._kernel[1] * h * w + (f * out_h * out_w if self.use_bias else 0)

    def forward(self, inputs, training):
        bias = self._params["bias"].value if self.use_bias else None
        # Training reuses the column buffer between steps; inference (a few images, or a test set in large
        # batches) holds nothing once it is done.
        workspace = self._workspace if training else None
        z, self._cache = conv_transpose2d_forward(inputs[0], self._params["kernel"].value, bias, self._strides,
                                                  self.padding, keep_cache=self.keep_for_backward,
                                                  workspace=workspace)
        y, self._saved = activation_of_pass(self).forward(z, inplace=True)
        return y

    def backward(self, dy, need_input_grads=True):
        dz = activation_of_pass(self).backward(dy, self._saved)
        dbias = self._params["bias"].grad if self.use_bias else None
        dx, _, _ = conv_transpose2d_backward(dz, self._cache, need_input_grads, self._params["kernel"].grad, dbias)
        self._cache = self._saved = None
        return [dx]
