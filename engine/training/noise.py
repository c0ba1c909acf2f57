"""Input noise of a denoising autoencoder (TrainingConfig.input_noise): one function, so that the trainer, the
views that show what such a network reads, and anyone else draw the same noise from the same seed.

    noisy = with_input_noise(images, 0.2, seed=0, stream=step)            # a training step's inputs
    noisy = with_input_noise(images, 0.2, seed=0, stream=VALIDATION_NOISE_STREAM)  # drawn once for validation
"""

from __future__ import annotations

import numpy as np

# The noise of a denoising autoencoder's validation images: drawn as a step's, from a "step" no run reaches.
VALIDATION_NOISE_STREAM = 2**63 - 1


def with_input_noise(images: np.ndarray, std: float, seed: int, stream: int) -> np.ndarray:
    """A noisy copy of a batch of inputs (the originals stay clean: they may be the targets). Gaussian noise of
    standard deviation ``std``; images (N, C, H, W) are clipped back to [0, 1], where their pixels live. Drawn
    from the run's seed and the stream (the training step, or VALIDATION_NOISE_STREAM), so a resumed run adds
    the same noise."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, stream, 1]))  # (1: apart from the dropout stream)
    noisy = images + rng.normal(0.0, std, size=images.shape).astype(images.dtype, copy=False)
    return np.clip(noisy, 0.0, 1.0, out=noisy) if images.ndim == 4 else noisy
