"""The fixed parts of an exported Keras script: a ``string.Template`` that ``engine.export.keras_code`` fills.

Every value put into it by the exporter is a Python literal written with ``repr`` (names, paths and
descriptions come from users: they must never become code).
"""

from __future__ import annotations

from string import Template

SCRIPT = Template('''\
"""$title: a Keras 3 model exported from LayerLab, with its weights.

${description}The design is rebuilt with the Keras functional API (build_model below); its weights are in
$weights_name beside this file. It runs on any Keras 3 backend: TensorFlow, JAX or PyTorch. Choose one
with the KERAS_BACKEND environment variable (Keras uses tensorflow when it is not set):

    KERAS_BACKEND=torch python $script_name            # the exported weights, evaluated on the test set
    KERAS_BACKEND=jax python $script_name --train      # trained from scratch with LayerLab's settings
    KERAS_BACKEND=tensorflow python $script_name --data /path/to/idx/files --train --epochs 3

It needs keras>=3, numpy, safetensors and the backend's own package (pip install keras safetensors numpy
torch, or jax, or tensorflow); LayerLab itself is not needed.

Images are channels-last, (height, width, channels) as Keras expects by default: the loader below turns
LayerLab's (channels, height, width) images around, and the exported convolution kernels were transposed
to match. Each Flatten of an image first puts the features back in LayerLab's channel, height, width order
(a Permute layer), so the Dense weights after it are LayerLab's own.
$notes"""

import argparse
import gzip
from pathlib import Path

import keras
import numpy as np
from keras import layers

WEIGHTS_FILE = Path(__file__).with_name($weights_name_literal)
DATA_SET = $dataset_literal
DATA_DIR = $data_dir_literal  # where LayerLab read the data set from when this script was written
INPUT_SHAPE = $input_shape  # one example as LayerLab reads it: (channels, height, width) or (features,)
BINARY = $binary  # a single output telling two classes apart: labels 0 or 1
CLASSIFIER = $classifier  # trained on class labels (else towards values: float labels, or the input itself)
TARGET = $target  # "labels", or "input": the model is trained to give back its own input (an autoencoder)
INPUT_NOISE = $input_noise  # the standard deviation of Gaussian noise added to each training input
FIGURE = $figure  # the metric reported beside the loss
BATCH_SIZE = $batch_size
EPOCHS = $epochs
MAX_STEPS = $max_steps  # None: every step of every epoch
EARLY_STOPPING_PATIENCE = $patience  # epochs without a better $monitor_words; None: never stops early
VALIDATION = $validation  # the fraction of the training set held out, chosen at random with SEED
SEED = $seed
EVAL_BATCH_SIZE = $eval_batch_size
$step_decay$padded_pooling$input_noise_layer

def build_model():
    """The design as a Keras functional model: layers called in LayerLab's run order, named after its nodes."""
$body
    return keras.Model(inputs=$input_var, outputs=$output_var, name=$model_name_literal)


# Keras layer name -> the safetensors keys of its weights, in the order layer.set_weights takes them.
WEIGHT_NAMES = $weight_names


def load_weights(model, path=WEIGHTS_FILE):
    """Put the exported weights (a .safetensors file) into ``model``'s layers, by layer name."""
    from safetensors.numpy import load_file

    arrays = load_file(str(path))
    for layer_name, keys in WEIGHT_NAMES.items():
        model.get_layer(layer_name).set_weights([arrays[key] for key in keys])
    return model


def compile_model(model):
    """LayerLab's loss (the design's task), optimizer and settings; accuracy, or the mean squared error of what
    the model shows, as the metric."""
    optimizer = $optimizer
$exclude_decay
    loss = $loss
    metric = $metric
    model.compile(optimizer=optimizer, loss=loss, metrics=[metric])
    return model


# -- the data: IDX files (MNIST's format; LayerLab's imported sets are stored in it too) ----------------------
IDX_NAMES = {
    "train_images": ("train-images-idx3-ubyte", "train-images-idx4-ubyte"),
    "train_labels": ("train-labels-idx1-ubyte", "train-labels-idx1-int32"),
    "test_images": ("t10k-images-idx3-ubyte", "test-images-idx4-ubyte"),
    "test_labels": ("t10k-labels-idx1-ubyte", "test-labels-idx1-int32"),
}
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """The array in an IDX file, gzipped or not."""
    data = Path(path).read_bytes()
    if data[:2] == b"\\x1f\\x8b":
        data = gzip.decompress(data)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_TYPES:
        raise SystemExit(f"{path}: not an IDX file")
    rank = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank))
    return np.frombuffer(data, dtype=IDX_TYPES[data[2]], offset=4 + 4 * rank).reshape(shape)


def find_idx(folder, role):
    for stem in IDX_NAMES[role]:
        for name in (stem + ".gz", stem):
            if (Path(folder) / name).is_file():
                return Path(folder) / name
    raise SystemExit(f"{folder}: no {IDX_NAMES[role][0]}[.gz] (or {IDX_NAMES[role][1]}[.gz]) here; give the "
                     f"folder holding {DATA_SET}'s four IDX files with --data")


def as_model_input(images):
    """uint8 images (N, H, W) or (N, C, H, W) -> float32 in [0, 1] as the model reads them, as LayerLab scales
    them (pixels / 255): (N, H, W, C) for an image model, LayerLab's (C, H, W) order flattened for a flat one."""
    if images.ndim == 3:
        images = images[:, None]
    x = np.divide(images, np.float32(255), dtype=np.float32)
    return x.reshape(len(x), -1) if len(INPUT_SHAPE) == 1 else x.transpose(0, 2, 3, 1)


def load_data(folder=DATA_DIR):
    """((x_train, y_train), (x_val, y_val), (x_test, y_test)) with LayerLab's scaling and validation split."""
    if folder is None:
        raise SystemExit(f"{DATA_SET} is not read from IDX files by LayerLab; save it as IDX files "
                         f"(train-images-idx4-ubyte.gz etc., as LayerLab stores imported sets) and give --data")
    arrays = {role: read_idx(find_idx(folder, role)) for role in IDX_NAMES}
    label_type = np.int64 if CLASSIFIER and not BINARY else np.float32
    labels = {role: arrays[role].astype(label_type) for role in ("train_labels", "test_labels")}
    train_x, train_y = arrays["train_images"], labels["train_labels"]
    # LayerLab's split: a seeded random subset of the training set, both parts kept in their order.
    count = int(round(len(train_y) * VALIDATION))
    held = np.zeros(len(train_y), dtype=bool)
    held[np.random.default_rng(SEED).permutation(len(train_y))[:count]] = True
    return ((as_model_input(train_x[~held]), train_y[~held]), (as_model_input(train_x[held]), train_y[held]),
            (as_model_input(arrays["test_images"]), labels["test_labels"]))


def targets_for(model, x, labels):
    """What the model's outputs are compared with: for an autoencoder (TARGET "input") the images themselves, in
    LayerLab's (channels, height, width) order and shaped as the model's output; else the labels."""
    if TARGET != "input":
        return labels
    chw = x.transpose(0, 3, 1, 2) if x.ndim == 4 else x
    return np.ascontiguousarray(chw).reshape((len(x), *model.output_shape[1:]))


def noisy_validation_inputs(x, seed):
    """What a denoising autoencoder (TARGET "input", INPUT_NOISE above 0) reads at validation, as LayerLab
    validates it: the validation images with noise as in training, drawn once from the seed (every epoch compares
    like with like), images clipped back to [0, 1]; the targets stay the clean images. Any other model reads them
    as they are. Validated on clean images, its validation loss would rise while the training loss fell: it
    learns the noisy images' statistics."""
    if not INPUT_NOISE or TARGET != "input":
        return x
    noisy = x + np.random.default_rng(seed).normal(0.0, INPUT_NOISE, x.shape).astype(np.float32)
    return np.clip(noisy, 0.0, 1.0) if x.ndim == 4 else noisy


class StopAfterSteps(keras.callbacks.Callback):
    """Ends training after MAX_STEPS batches, mid-epoch if need be, as LayerLab's max_steps does."""

    def __init__(self, steps):
        super().__init__()
        self.steps, self.done = steps, 0

    def on_train_batch_end(self, batch, logs=None):
        self.done += 1
        if self.done >= self.steps:
            self.model.stop_training = True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DATA_DIR, help="the folder of the data set's IDX files")
    parser.add_argument("--train", action="store_true", help="train from scratch (else evaluate the exported weights)")
    parser.add_argument("--from-weights", action="store_true", help="with --train: start from the exported weights")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    args = parser.parse_args(argv)
    print(f"Keras {keras.__version__} on the {keras.backend.backend()} backend")
    keras.utils.set_random_seed(SEED)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_data(args.data)
    model = compile_model(build_model())
    y_train, y_val, y_test = (targets_for(model, x, y) for x, y in ((x_train, y_train), (x_val, y_val),
                                                                   (x_test, y_test)))
    x_val = noisy_validation_inputs(x_val, SEED)  # after the targets: they stay the clean images
    if not args.train or args.from_weights:
        load_weights(model)
    if args.train:
        callbacks = [StopAfterSteps(MAX_STEPS)] if MAX_STEPS else []
        if EARLY_STOPPING_PATIENCE and len(y_val):
            callbacks.append(keras.callbacks.EarlyStopping(monitor=$monitor, mode=$monitor_mode,
                                                           patience=EARLY_STOPPING_PATIENCE,
                                                           restore_best_weights=True))
        model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, shuffle=True,
                  validation_data=(x_val, y_val) if len(y_val) else None, callbacks=callbacks, verbose=2)
    loss, figure = model.evaluate(x_test, y_test, batch_size=EVAL_BATCH_SIZE, verbose=0)
    print(f"test loss {loss:.4f}, test {FIGURE.replace('_', ' ')} {figure:.4f}")


if __name__ == "__main__":
    main()
''')

STEP_DECAY = '''

class StepDecay(keras.optimizers.schedules.LearningRateSchedule):
    """LayerLab's step schedule (Keras has none): the rate times ``factor`` every ``step_size`` steps."""

    def __init__(self, initial_learning_rate, step_size, factor=0.1):
        self.initial_learning_rate, self.step_size, self.factor = initial_learning_rate, step_size, factor

    def __call__(self, step):
        return self.initial_learning_rate * keras.ops.power(self.factor, keras.ops.floor_divide(step, self.step_size))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "step_size": self.step_size,
                "factor": self.factor}
'''

EXCLUDE_DECAY = '''\
    # LayerLab decays kernels only (AdamW's decoupled weight decay), never biases or BatchNorm's gamma and beta
    optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])'''

PADDED_POOLING = '''

class PaddedPooling2D(layers.Layer):
    """Max or average pooling of an image padded by ``pads`` (top, bottom, left, right), as LayerLab pools: a
    max never picks the padding and an average counts only each window's real pixels. Keras's own pooling
    layers pad only for "same", and its torch backend fills an uneven "same" border by repeating the edge
    pixels, which an average would then count; this layer gives the same numbers on every backend."""

    def __init__(self, mode, pool_size, strides, pads, **kwargs):
        super().__init__(**kwargs)
        self.mode, self.pool_size, self.strides, self.pads = mode, tuple(pool_size), tuple(strides), tuple(pads)

    def build(self, input_shape):
        top, bottom, left, right = self.pads
        height, width = input_shape[1], input_shape[2]
        real = np.zeros((height + top + bottom, width + left + right), dtype="float32")
        real[top:top + height, left:left + width] = 1
        (kh, kw), (sh, sw) = self.pool_size, self.strides
        rows, cols = (real.shape[0] - kh) // sh + 1, (real.shape[1] - kw) // sw + 1
        counts = np.array([[real[i * sh:i * sh + kh, j * sw:j * sw + kw].sum() for j in range(cols)]
                           for i in range(rows)], dtype="float32")
        self.rescale = (kh * kw / counts)[None, :, :, None]  # a window's mean over its real pixels only

    def call(self, x):
        top, bottom, left, right = self.pads
        fill = float("-inf") if self.mode == "max" else 0.0
        padded = keras.ops.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]], constant_values=fill)
        if self.mode == "max":
            return keras.ops.max_pool(padded, self.pool_size, self.strides, "valid")
        return keras.ops.multiply(keras.ops.average_pool(padded, self.pool_size, self.strides, "valid"),
                                  keras.ops.convert_to_tensor(self.rescale))

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "pool_size": self.pool_size, "strides": self.strides,
                "pads": self.pads}
'''

INPUT_NOISE = '''

class InputNoise(layers.Layer):
    """Gaussian noise of standard deviation ``stddev`` added to the inputs while training only, images clipped
    back to [0, 1], as LayerLab's input noise (a denoising autoencoder: the targets stay the clean inputs)."""

    def __init__(self, stddev, clip, **kwargs):
        super().__init__(**kwargs)
        self.stddev, self.clip = stddev, clip
        self.seed_generator = keras.random.SeedGenerator(SEED)

    def call(self, x, training=False):
        if not training:
            return x
        noisy = x + keras.random.normal(keras.ops.shape(x), stddev=self.stddev, seed=self.seed_generator)
        return keras.ops.clip(noisy, 0.0, 1.0) if self.clip else noisy

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "clip": self.clip}
'''
