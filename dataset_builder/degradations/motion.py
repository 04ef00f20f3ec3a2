"""``object_movement``: the patient moves during the acquisition, with each modality's physics.

One model of the movement serves every modality. The acquisition runs over normalised time
t in [0, 1]; the patient holds a reference pose, moves suddenly at ``events`` instants and
holds each new pose until the next (TorchIO's ``RandomMotion`` model: rigid poses, piecewise
constant in time). The segment that holds t = 1/2 is the reference (angle 0, no shift): the
image is registered to the pose held when the centre of k-space (MRI) or the middle view
(CT) was acquired. Each pose is a rotation about the image centre (degrees,
counter-clockwise) and a translation (dy, dx) in pixels.

The path's geometry (when the moves happen, their directions and the share of each
maximum) is drawn once per item from the type's shared generator; the level sets only the
magnitudes (``degrees``, ``translation`` as a fraction of sqrt(H x W)), so L2 is the same
movement as L1, larger. The record holds the poses applied (``poses``) in pixels and
degrees.

How a pose sequence becomes an image depends on how the modality forms it:
- MRI (``mri.kspace_motion``): phase-encode lines are acquired in order across k-space; the
  lines of each segment come from the k-space of the object in that segment's pose.
- CT (``ct.sinogram_motion``): views are acquired in order over 180 degrees; the views of
  each segment are projections of the moved object, then filtered back-projection.
- every other modality (``general.exposure_motion``): the detector integrates during the
  exposure (X-ray, nuclear medicine, photographs, ultrasound frame persistence), so the
  image is the time-weighted mean of the moved copies: double contours and smears.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .ct import hounsfield_scale, sinogram_motion
from .general import exposure_motion
from .geometry import reference_length
from .mri import kspace_motion
from .params import Choice, Derived, SampleContext, Shared
from .registry import register

EVENTS = 2
"""Movements per acquisition (TorchIO's ``num_transforms`` default)."""

EVENT_WINDOW = (0.25, 0.45)
"""The first move happens at t in this window, the second at 1 - t' with t' in it: the
reference segment around t = 1/2 lasts between 10% and 50% of the acquisition (for MRI:
the moved segments reach within 5-25% of the lines from the centre of k-space)."""

PHYSICS = {"MRI": "k-space", "CT": "sinogram"}
"""The modality's physics; any other modality (or none given) integrates over the exposure."""


def physics_of(modality: str | None) -> str:
    """"k-space" (MRI), "sinogram" (CT) or "exposure" (every other modality, or none given)."""
    return PHYSICS.get(modality or "", "exposure")


def motion_poses(ctx: SampleContext) -> list[dict[str, Any]]:
    """The pose of each segment: ``{"start", "end", "angle", "shift"}`` (time, degrees, pixels).

    Shared draws: the two move times (``EVENT_WINDOW``), and for each moved segment a sign
    and share U(0.5, 1) of ``degrees`` and a direction and share U(0.5, 1) of
    ``translation``. The level's ``degrees`` and ``translation`` scale them.
    """
    rng = ctx.shared_rng("poses")
    first = float(rng.uniform(*EVENT_WINDOW))
    last = 1.0 - float(rng.uniform(*EVENT_WINDOW))
    bounds = [0.0, first, last, 1.0]
    size = reference_length(np.empty(ctx.shape[:2], dtype=np.uint8))
    degrees, translation = float(ctx.values["degrees"]), float(ctx.values["translation"]) * size
    poses = []
    for segment in range(EVENTS + 1):
        sign, angle_share = rng.choice([-1.0, 1.0]), rng.uniform(0.5, 1.0)
        direction, shift_share = rng.uniform(0.0, 2 * np.pi), rng.uniform(0.5, 1.0)
        moved = segment != 1  # the middle segment holds t = 1/2: the reference pose
        angle = float(sign * angle_share * degrees) if moved else 0.0
        distance = float(shift_share * translation) if moved else 0.0
        poses.append({"start": bounds[segment], "end": bounds[segment + 1], "angle": angle,
                      "shift": [distance * float(np.sin(direction)), distance * float(np.cos(direction))]})
    return poses


MOVEMENT_LEVELS = {
    level: {
        "degrees": degrees, "translation": translation,
        "physics": Derived(lambda ctx: physics_of(ctx.modality), "k-space (MRI), sinogram (CT), else exposure"),
        "axis": Shared(Choice((0, 1))),
        "poses": Derived(motion_poses, "2 sudden moves at shared times, each pose U(0.5, 1) x the maxima, "
                                       "direction shared by L1 and L2"),
        "scale": Derived(lambda ctx: hounsfield_scale(ctx) if physics_of(ctx.modality) == "sinogram" else None,
                         "HU of a CT input (see ct.hounsfield_scale); None otherwise"),
    }
    for level, (degrees, translation) in {1: (2.0, 0.006), 2: (10.0, 0.04)}.items()
}


@register("object_movement", category="motion", levels=MOVEMENT_LEVELS, aliases=("random_motion",))
def object_movement(image: np.ndarray, *, degrees: float, translation: float, physics: str, axis: int,
                    poses: list[dict[str, Any]], scale: dict | None) -> np.ndarray:
    """Patient movement during the acquisition, through the modality's physics (see the module).

    ``degrees`` and ``translation`` are the level's maxima (recorded for reference); the
    applied movement is ``poses``. ``axis`` is the MRI phase-encode axis (0: rows).
    """
    if physics == "k-space":
        return kspace_motion(image, poses, axis)
    if physics == "sinogram":
        return sinogram_motion(image, poses, scale)
    return exposure_motion(image, poses)
