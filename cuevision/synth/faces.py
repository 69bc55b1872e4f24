"""Face sprites for the synthetic dyad, cut at run time from public-domain photos that installed
packages ship (no face image is ever stored in the project), and the warps that make them act.

- caregiver: Grace Hopper (US Navy photo, public domain), ``matplotlib``'s ``grace_hopper.jpg``;
- child: Eileen Collins (NASA photo, public domain), ``skimage.data.astronaut()``.

The face geometry below was measured once with MediaPipe FaceMesh 0.10.21 on the photos (source
pixels). The warps act on a sprite in its own pixel grid:

- yaw: the head is a vertical cylinder through the nose; a turn by ``yaw`` rotates it, so the nose
  moves by ``sin(yaw)`` of the radius and the far cheek is foreshortened (yaw > 0: nose to +x);
- mouth opening: the lower lip and chin slide down, the gap between the lips is dark;
- smile: the mouth corners move up and out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

MOUTH_COLOUR = np.array([70.0, 25.0, 30.0, 255.0])


@dataclass(frozen=True)
class Sprite:
    """An RGBA head-and-shoulders cut-out and where its face parts lie, in its own pixels."""

    rgba: np.ndarray  # (H, W, 4) float32, 0..255; alpha 0 outside the person
    nose: tuple[float, float]  # x, y: the cylinder's axis and the face's anchor
    head_radius: float  # cylinder radius: half the width of the head with hair
    chin_y: float
    mouth_x: tuple[float, float]  # left and right corners
    lip_y: float  # the line between the lips


@dataclass(frozen=True)
class _Spec:
    crop: tuple[int, int, int, int]  # x0, y0, x1, y1 in the photo
    head: tuple[float, float, float, float]  # ellipse centre x, y and radii, photo pixels
    torso: tuple[float, float, float, float]  # shoulders: ellipse centre x, y and radii
    nose: tuple[float, float]
    chin_y: float
    mouth_x: tuple[float, float]
    lip_y: float


_SPECS = {
    "caregiver": _Spec(
        (40, 10, 490, 600),
        (264, 195, 118, 165),
        (265, 640, 215, 320),
        (268, 246),
        334,
        (232, 303),
        279,
    ),
    "child": _Spec(
        (90, 20, 360, 330),
        (225, 118, 72, 98),
        (222, 390, 125, 225),
        (223, 130),
        177,
        (202, 245),
        146,
    ),
}


def _photo(role: str) -> np.ndarray:
    if role == "child":
        from skimage.data import astronaut

        return np.asarray(astronaut())
    import matplotlib
    from PIL import Image

    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    return np.asarray(Image.open(path).convert("RGB"))


def load_sprite(role: str, scale: float, stretch: float = 1.0) -> Sprite:
    """The role's sprite resampled by ``scale`` (and ``stretch`` more across: a rounder face),
    with a soft mask around head and shoulders."""
    spec = _SPECS[role]
    x0, y0, x1, y1 = spec.crop
    photo = _photo(role)[y0:y1, x0:x1].astype(np.float32)
    yy, xx = np.mgrid[0 : y1 - y0, 0 : x1 - x0].astype(np.float32)
    hx, hy, rx, ry = spec.head
    head = ((xx + x0 - hx) / rx) ** 2 + ((yy + y0 - hy) / ry) ** 2 <= 1.0
    tx, ty, trx, try_ = spec.torso
    torso = ((xx + x0 - tx) / trx) ** 2 + ((yy + y0 - ty) / try_) ** 2 <= 1.0
    alpha = ndimage.gaussian_filter((head | torso).astype(np.float32) * 255.0, 3.0)
    rgba = np.dstack([photo, alpha])
    size = (round(rgba.shape[0] * scale), round(rgba.shape[1] * scale * stretch))
    zoom = (size[0] / rgba.shape[0], size[1] / rgba.shape[1], 1.0)
    rgba = ndimage.zoom(rgba, zoom, order=1).astype(np.float32)

    def at(x: float, y: float) -> tuple[float, float]:
        return (x - x0) * scale * stretch, (y - y0) * scale

    return Sprite(
        rgba=rgba,
        nose=at(*spec.nose),
        head_radius=rx * scale * stretch,
        chin_y=at(0, spec.chin_y)[1],
        mouth_x=(at(spec.mouth_x[0], 0)[0], at(spec.mouth_x[1], 0)[0]),
        lip_y=at(0, spec.lip_y)[1],
    )


def pose_sprite(sprite: Sprite, *, yaw_deg: float, mouth: float, smile: float) -> np.ndarray:
    """The sprite turned by ``yaw_deg``, mouth open by ``mouth`` (0..1), smiling by ``smile``.

    Built as one inverse map: for each output pixel, undo the yaw, then the smile, then the
    mouth opening, and sample the sprite there.
    """
    h, w = sprite.rgba.shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    nx, ny = sprite.nose
    radius = sprite.head_radius
    # Yaw: full turn on the head, fading out over the neck so the shoulders stay put.
    weight = np.clip((sprite.chin_y + 0.4 * radius - y) / (0.4 * radius), 0.0, 1.0)
    u = np.clip((x - nx) / radius, -1.0, 1.0)
    phi = np.arcsin(u) - np.radians(yaw_deg) * weight
    hidden = (np.abs(phi) > np.pi / 2) & (np.abs(x - nx) < radius)
    inside = np.abs(x - nx) < radius
    sx = np.where(inside, nx + np.sin(np.clip(phi, -np.pi / 2, np.pi / 2)) * radius, x)
    sy = y.copy()
    left, right = sprite.mouth_x
    centre, half = (left + right) / 2, (right - left) / 2
    # Smile: content near each corner comes from lower and further in, so the corners rise.
    for corner, side in ((left, -1.0), (right, 1.0)):
        bump = np.exp(
            -(((sx - corner) / (0.45 * half)) ** 2 + ((sy - sprite.lip_y) / (0.5 * half)) ** 2)
        )
        sy = sy + smile * 0.3 * half * bump
        sx = sx - side * smile * 0.12 * half * bump
    # Mouth: below the lip line everything down to past the chin slides down by the opening.
    opening = mouth * 0.45 * half * np.clip(1.0 - ((sx - centre) / (1.05 * half)) ** 2, 0.0, 1.0)
    end = sprite.chin_y + 0.25 * (sprite.chin_y - sprite.lip_y)
    below = (sy >= sprite.lip_y) & (sy < end)
    gap = below & (sy < sprite.lip_y + opening)
    squeeze = (
        (sy - sprite.lip_y - opening)
        * (end - sprite.lip_y)
        / np.maximum(end - sprite.lip_y - opening, 1e-3)
    )
    sy = np.where(below & ~gap, sprite.lip_y + squeeze, sy)
    channels = [
        ndimage.map_coordinates(sprite.rgba[:, :, c], [sy, sx], order=1, mode="constant")
        for c in range(4)
    ]
    out = np.stack(channels, axis=-1)
    out[gap] = MOUTH_COLOUR
    out[hidden, 3] = 0.0
    return out
