"""The image-domain baseline for MRI k-space motion (used by ``benchmarks/degradations.py``).

TorchIO's ``RandomMotion`` resamples the image in each pose (SimpleITK, linear
interpolation) and takes each segment's k-space lines from the DFT of its pose's image.
``resampled_kspace_motion`` does the same with the poses, segments and phase-encode axis of
``mri.kspace_motion``: each moved pose by ``cv2.warpAffine`` (bilinear, the pose of
``geometry.rigid_move``, the field of view periodic as in the exact model), one real DFT
of its phase-encode lines, the lines of its segment, then |inverse FFT| along that axis.
It needs one real DFT per moved pose where rotation by three Fourier shears needs four,
but bilinear weights damp the high frequencies that the moved segments, the outer lines
of k-space, are made of.
"""

from __future__ import annotations

import cv2
import numpy as np

from medqdeg.dataset_builder.degradations import fourier, mri


def _resampled(image: np.ndarray, angle: float, shift: tuple[float, float]) -> np.ndarray:
    """``image`` rotated ``angle`` degrees counter-clockwise about its centre, then shifted by (dy, dx) pixels."""
    height, width = image.shape
    matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), angle, 1.0)
    matrix[:, 2] += (shift[1], shift[0])
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)


def resampled_kspace_motion(image: np.ndarray, poses: list[dict], axis: int) -> np.ndarray:
    """|F^-1(K')| of a grey float32 image in [0, 1], K' = each segment's lines from its resampled pose.

    The image is laid out with its phase-encode lines last, as ``mri.kspace_motion`` does; when
    that is its transpose (axis 0), a mirror, the pose turns the other way and dy and dx swap.
    """
    laid_out = mri.lines_last(image, axis)
    readout, lines = laid_out.shape
    acquired = np.zeros((readout, lines), dtype=np.complex64)
    for pose in poses:
        low, high = mri._segment_bounds(lines, pose["start"], pose["end"])
        angle, (dy, dx) = float(pose["angle"]), pose["shift"]
        if axis == 0:
            angle, dy, dx = -angle, dx, dy
        moved = _resampled(laid_out, angle, (dy, dx)) if angle or dy or dx else laid_out
        fourier.put_lines(acquired, fourier.spectrum_lines(fourier.rfft_rows(moved), low, high), low, high)
    shown = mri.magnitude_image(acquired, axis)
    return np.clip(shown, 0.0, 1.0, out=shown)
