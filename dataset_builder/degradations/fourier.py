"""Real Fourier transforms through OpenCV: of image rows, Fourier shifts of rows, convolution.

OpenCV's real DFT of rows (``cv2.dft`` with ``DFT_ROWS``) takes about half the time of
``scipy.fft.rfft`` along the rows on one core, and so does its inverse; its 2D transform
also beats ``scipy.fft.rfft2`` (``benchmarks/degradations.py``, section "Fourier
transforms"). It keeps the spectrum X_k = sum_n x_n exp(-2 pi i k n / N) of a row of N
real samples in N floats, "packed" (the 2D transform packs both axes alike):

    [Re X_0, Re X_1, Im X_1, ..., Re X_{m}, Im X_{m}, Re X_{N/2}]    m = (N - 1) // 2

where the last entry, the real Nyquist bin, exists only when N is even; the other
frequencies follow from X_{-k} = conj(X_k). Transforms run along the last axis, which
must be contiguous: callers lay the axis they transform out last (``transposed``).
"""

from __future__ import annotations

import cv2
import numpy as np

from .channels import per_channel


def transposed(image: np.ndarray) -> np.ndarray:
    """The transpose of a 2D float32 array, laid out contiguously (``cv2.transpose``)."""
    return cv2.transpose(np.ascontiguousarray(image, dtype=np.float32))


def rfft_rows(image: np.ndarray) -> np.ndarray:
    """The packed spectrum of each row of a 2D float32 image (float32, the image's shape)."""
    return cv2.dft(np.ascontiguousarray(image, dtype=np.float32), flags=cv2.DFT_ROWS)


def irfft_rows(packed: np.ndarray) -> np.ndarray:
    """The rows whose packed spectra ``packed`` holds (float32): x_n = (1/N) sum_k X_k exp(2 pi i k n / N)."""
    return cv2.idft(packed, flags=cv2.DFT_ROWS | cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE)


def _interior(packed: np.ndarray) -> np.ndarray:
    """The bins k = 1 .. (N - 1) // 2 of each row, as a complex64 view (lines x m)."""
    pairs = 2 * ((packed.shape[1] - 1) // 2)
    return packed[:, 1:1 + pairs].view(np.complex64)


def unit_phasors(phase: np.ndarray) -> np.ndarray:
    """exp(i phase) in complex64, through float32 cos and sin (much faster than complex exp)."""
    out = np.empty(phase.shape, dtype=np.complex64)
    out.real, out.imag = np.cos(phase), np.sin(phase)
    return out


def _block_size(lines: int) -> int:
    """The largest divisor of ``lines`` not above sqrt(lines) (1 when ``lines`` is prime)."""
    return max(b for b in range(1, int(np.sqrt(lines)) + 1) if lines % b == 0)


def line_shifts(lines: int, slope: float, offset: float) -> np.ndarray:
    """d_r = slope (r - (lines - 1) / 2) + offset for r = 0 .. ``lines`` - 1, in samples (float64)."""
    return slope * (np.arange(lines) - (lines - 1) / 2) + offset


def shift_phasors(lines: int, k: np.ndarray, slope: float, offset: float, length: int) -> np.ndarray:
    """exp(-2 pi i k d_r / N) for the lines r = 0 .. ``lines`` - 1 (rows) and frequencies ``k`` (columns).

    Complex64, contiguous. Line r of a spectrum times row r is that line moved along itself
    by d_r samples (``line_shifts``), N = ``length`` (a shear when ``slope`` is not 0). The
    lines are taken in blocks of B (a divisor of ``lines`` near sqrt(lines)), d_{jB+q} =
    d_{jB} + slope q, so each factor is a coarse phasor per block times a fine one per
    offset q in the block: only (lines / B + B) x len(k) phasors are evaluated.
    """
    block = _block_size(lines)
    unit = (-2 * np.pi / length) * np.asarray(k, dtype=np.float64)
    starts = line_shifts(lines, slope, offset)[::block]
    coarse = unit_phasors(np.multiply.outer(starts, unit).astype(np.float32))
    fine = unit_phasors(np.multiply.outer(slope * np.arange(block), unit).astype(np.float32))
    return (coarse[:, None, :] * fine[None, :, :]).reshape(lines, unit.size)


def apply_shifts(spectra: np.ndarray, k: np.ndarray, slope: float, offset: float, length: int) -> None:
    """Move line r of ``spectra`` (lines x len(k), complex64, in place) by d_r samples (``shift_phasors``)."""
    spectra *= shift_phasors(spectra.shape[0], k, slope, offset, length)


def shift_rows(packed: np.ndarray, slope: float, offset: float, out: np.ndarray | None = None) -> np.ndarray:
    """Move row r of the image whose packed row spectra ``packed`` holds by d_r samples.

    d_r = slope (r - (R - 1) / 2) + offset (R rows, ``line_shifts``; a shear when ``slope`` is not 0): X_k
    becomes X_k exp(-2 pi i k d_r / N), exact band-limited interpolation on a periodic row.
    The real Nyquist bin keeps the real part of its shifted value, X_{N/2} cos(pi d_r),
    as a real inverse transform of the shifted spectrum would. In place, or into ``out``
    (``packed``'s shape and dtype), leaving ``packed`` as it was; returns the moved spectra.
    """
    rows, length = packed.shape
    if out is None:
        out = packed
    else:
        out[:, 0] = packed[:, 0]
    k = np.arange(1, (length - 1) // 2 + 1)
    np.multiply(_interior(packed), shift_phasors(rows, k, slope, offset, length), out=_interior(out))
    if length % 2 == 0:
        nyquist = np.cos(np.pi * line_shifts(rows, slope, offset)).astype(np.float32)
        np.multiply(packed[:, -1], nyquist, out=out[:, -1])
    return out


def spectrum_lines(packed: np.ndarray, low: int, high: int) -> np.ndarray:
    """The bins k = ``low`` .. ``high`` - 1 of each row, signed (complex64, rows x (high - low)).

    -N/2 <= low < high <= (N + 1) // 2; a negative k is conj(X_{-k}) (real rows), so a
    band around DC, or one on either side of it, comes out of one packed spectrum.
    """
    rows, length = packed.shape
    out = np.empty((rows, high - low), dtype=np.complex64)
    interior = _interior(packed)  # k = 1 .. m
    m = interior.shape[1]
    first, last = max(low, 1), min(high, m + 1)  # positive k from the interior
    if first < last:
        out[:, first - low:last - low] = interior[:, first - 1:last - 1]
    first, last = max(low, -m), min(high, 0)  # negative k: conj(X_{-k}), interior columns -k - 1, reversed
    if first < last:
        stop = -last - 1 if last < 0 else None
        np.conjugate(interior[:, -first - 1:stop:-1], out=out[:, first - low:last - low])
    if low <= 0 < high:
        out[:, -low] = packed[:, 0]
    if low == -(length // 2) and length % 2 == 0:  # the Nyquist bin, real
        out[:, 0] = packed[:, -1]
    return out


def put_lines(spectra: np.ndarray, values: np.ndarray, low: int, high: int) -> None:
    """Store ``values``, the bins k = ``low`` .. ``high`` - 1 of each row (``spectrum_lines``), in
    ``spectra`` (rows x N, FFT order), at columns k mod N: a negative k at k + N."""
    lines = spectra.shape[1]
    if high > 0:
        spectra[:, max(low, 0):high] = values[:, max(low, 0) - low:]
    if low < 0:
        spectra[:, lines + low:lines + min(high, 0)] = values[:, :min(high, 0) - low]


DIRECT_KERNEL = 11
"""Kernels at most this wide are convolved in the image domain (``cv2.filter2D``, which works
directly up to 11 x 11): at 11 x 11 on a 512 x 512 image several times faster than any DFT
convolution (``benchmarks/degradations.py``, "Fourier transforms"); the DFT wins from 15 x 15."""


def convolve_reflect(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolution of each channel with a square, odd-sized ``kernel``, reflected borders (d c b | a b c d).

    A kernel up to ``DIRECT_KERNEL`` wide goes through ``cv2.filter2D`` (a correlation, so
    with the kernel flipped). A larger one by 2D DFT (``cv2.dft``, spectra multiplied in the
    packed layout by ``cv2.mulSpectrums``): the channel is reflected by r = K // 2 on each
    side, padded with zeros to a fast DFT size N >= H + 2r (``cv2.getOptimalDFTSize``) and
    convolved circularly; the H x W outputs kept (from 2r on) read only the reflected
    channel and never wrap around. Output clipped to [0, 1].
    """
    if kernel.shape[0] <= DIRECT_KERNEL:
        flipped = cv2.flip(np.ascontiguousarray(kernel, dtype=np.float32), -1)
        return np.clip(per_channel(lambda channel: cv2.filter2D(
            np.ascontiguousarray(channel, dtype=np.float32), cv2.CV_32F, flipped,
            borderType=cv2.BORDER_REFLECT_101), image), 0.0, 1.0)
    radius = kernel.shape[0] // 2
    height, width = image.shape[:2]
    rows, columns = (cv2.getOptimalDFTSize(n + 2 * radius) for n in (height, width))
    padded_kernel = np.zeros((rows, columns), dtype=np.float32)
    padded_kernel[:kernel.shape[0], :kernel.shape[1]] = kernel
    kernel_spectrum = cv2.dft(padded_kernel, nonzeroRows=kernel.shape[0])
    filled = height + 2 * radius  # the rows below are zeros, and are not read back

    def convolve(channel: np.ndarray) -> np.ndarray:
        reflected = cv2.copyMakeBorder(np.ascontiguousarray(channel, dtype=np.float32),
                                       radius, radius, radius, radius, cv2.BORDER_REFLECT_101)
        padded = cv2.copyMakeBorder(reflected, 0, rows - filled, 0, columns - reflected.shape[1],
                                    cv2.BORDER_CONSTANT, value=0.0)
        spectrum = cv2.mulSpectrums(cv2.dft(padded, nonzeroRows=filled), kernel_spectrum, 0)
        full = cv2.idft(spectrum, flags=cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE, nonzeroRows=filled)
        return full[2 * radius:filled, 2 * radius:2 * radius + width]

    return np.clip(per_channel(convolve, image), 0.0, 1.0)
