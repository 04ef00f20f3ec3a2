"""OpenCV's packed real transforms, Fourier shifts and convolution against scipy's reference ones."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import fft, ndimage

from medqdeg.dataset_builder.degradations.fourier import (
    apply_shifts,
    convolve_reflect,
    irfft_rows,
    put_lines,
    rfft_rows,
    shift_rows,
    spectrum_lines,
    transposed,
)

SHAPES = [(16, 32), (15, 33), (7, 12), (31, 29)]  # even and odd lengths, a prime number of rows


def _rows(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random(shape).astype(np.float32)


@pytest.mark.parametrize("shape", SHAPES)
def test_packed_row_spectra_hold_the_half_spectrum_and_invert(shape):
    rows = _rows(shape)
    packed = rfft_rows(rows)
    assert packed.shape == rows.shape and packed.dtype == np.float32
    full = fft.fft(rows.astype(np.float64), axis=1)  # X_k for every k, k < 0 at k + N
    length = shape[1]
    for low, high in [(-(length // 2), (length + 1) // 2), (-3, 4), (2, 5), (-(length // 2), -2), (0, 1)]:
        k = np.arange(low, high)
        assert np.allclose(spectrum_lines(packed, low, high), full[:, k % length], atol=1e-4), (low, high)
    assert np.allclose(irfft_rows(packed), rows, atol=1e-5)
    assert np.array_equal(transposed(rows), rows.T)


@pytest.mark.parametrize("shape", SHAPES)
def test_lines_are_put_back_at_their_fft_order_columns(shape):
    packed = rfft_rows(_rows(shape))
    length = shape[1]
    full = np.zeros(shape, dtype=np.complex64)
    bands = [(-(length // 2), -2), (-2, 3), (3, (length + 1) // 2)]  # tile every k, one band across DC
    for low, high in bands:
        put_lines(full, spectrum_lines(packed, low, high), low, high)
    assert np.allclose(full, fft.fft(_rows(shape).astype(np.float64), axis=1), atol=1e-4)
    only = np.zeros(shape, dtype=np.complex64)
    put_lines(only, spectrum_lines(packed, -2, 3), -2, 3)
    held = np.r_[0:3, length - 2:length]
    assert np.array_equal(only[:, held], full[:, held])
    assert not np.any(np.delete(only, held, axis=1))  # nothing outside the band is written


def _shifted_reference(rows: np.ndarray, slope: float, offset: float) -> np.ndarray:
    """Each row r moved by slope (r - centre) + offset samples: scipy's real FFT, phase ramp, inverse."""
    count, length = rows.shape
    shifts = slope * (np.arange(count) - (count - 1) / 2) + offset
    spectrum = fft.rfft(rows.astype(np.float64), axis=1)
    spectrum *= np.exp(-2j * np.pi * np.outer(shifts, np.arange(spectrum.shape[1])) / length)
    return fft.irfft(spectrum, n=length, axis=1)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("slope", "offset"), [(0.0, 3.0), (0.37, -1.25), (-0.2, 0.5)])
def test_shift_rows_is_the_fourier_shift_of_each_row(shape, slope, offset):
    rows = _rows(shape, seed=1)
    packed = rfft_rows(rows)
    original = packed.copy()
    moved = shift_rows(packed, slope, offset, out=np.empty_like(packed))  # into a new array
    assert np.array_equal(packed, original)
    assert np.allclose(irfft_rows(moved), _shifted_reference(rows, slope, offset), atol=2e-5)
    assert shift_rows(packed, slope, offset) is packed  # in place: the same values
    assert np.array_equal(packed, moved)


def test_a_whole_sample_shift_moves_the_row_exactly():
    rows = _rows((6, 20), seed=2)
    packed = rfft_rows(rows)
    shift_rows(packed, 0.0, 3.0)
    assert np.allclose(irfft_rows(packed), np.roll(rows, 3, axis=1), atol=1e-5)


def test_apply_shifts_on_a_column_subset_and_a_strided_view():
    lines, length = 24, 40
    k = np.arange(5, 13)
    spectra = (_rows((lines, k.size), 3) + 1j * _rows((lines, k.size), 4)).astype(np.complex64)
    wide = np.zeros((lines, 30), dtype=np.complex64)
    wide[:, 10:10 + k.size] = spectra
    view = wide[:, 10:10 + k.size]  # rows not contiguous: the factor must land in place
    apply_shifts(view, k, 0.3, -2.0, length)
    shifts = 0.3 * (np.arange(lines) - (lines - 1) / 2) - 2.0
    expected = spectra * np.exp(-2j * np.pi * np.outer(shifts, k) / length)
    assert np.allclose(wide[:, 10:10 + k.size], expected, atol=1e-5)
    assert not wide[:, :10].any() and not wide[:, 10 + k.size:].any()


@pytest.mark.parametrize("shape", [(64, 64), (37, 53), (9, 11), (40, 31, 3)])
@pytest.mark.parametrize("size", [7, 15])  # the direct path and the DFT (see DIRECT_KERNEL)
def test_convolve_reflect_is_scipy_mirror_convolution(shape, size):
    image = _rows(shape, seed=5) * 0.8
    kernel = _rows((size, size), seed=6)
    kernel[:, :size // 2] = 0.0  # asymmetric: a flipped kernel (a correlation) would not match
    kernel /= kernel.sum()
    channels = [image] if image.ndim == 2 else [image[..., c] for c in range(3)]
    expected = np.stack([ndimage.convolve(c.astype(np.float64), kernel, mode="mirror") for c in channels], axis=-1)
    out = convolve_reflect(image, kernel)
    assert out.shape == image.shape
    assert np.allclose(out, np.clip(expected.reshape(image.shape), 0, 1), atol=1e-5)
