"""Studio framing of a generated portrait: what the contributors' photos really show, on generated paper.

1. **Framing.** Gallery photos are usually tight (the FFHQ square reaches past the photo above the head and
   below the chin), and what lies beyond a photo's edge is only padding: left in, it shows as a mirrored
   forehead or a smeared band. The portrait is zoomed about the FFHQ centre (at most ``MAX_ZOOM``) until the
   square lies within the framing contributor's real photo, like a beauty close-up; ``zoom`` is reported.
2. **Backdrop.** The person (head, hair, shoulders: ``face.segment.person_mask``, only the part joined to the
   face, so a bystander or a stray hand at the edge goes) is laid on a generated studio paper: a soft gradient
   in the preset's colour, lighter behind the head, a faint vignette and its own grain (seeded). No pixel of a
   contributor's background survives. The edge of the mask is pulled in a little and its colours are taken
   from the person, so the old background does not show as a halo.
"""

from __future__ import annotations

import numpy as np

MAX_ZOOM = 2.0
INSIDE_SHARE = 0.985  # share of the framed square that must be real photo
NEUTRAL = (222, 219, 214)  # RGB: warm light grey studio paper
# Preset style tags -> backdrop colour (RGB): soft, desaturated colours a fashion shop puts behind a model.
STYLE_COLOURS = {
    "elegant": (214, 206, 196),
    "innocent": (234, 230, 224),
    "graceful": (221, 214, 205),
    "edgy": (92, 94, 100),
    "fresh": (208, 224, 228),
}


def backdrop_colour(style: str | None) -> tuple[int, int, int]:
    """The studio paper of a style (``spec.BACKDROP_STYLES``), else the neutral paper."""
    return STYLE_COLOURS.get(style or "", NEUTRAL)


def framing_zoom(inside: np.ndarray) -> float:
    """The least zoom about the centre (1 .. MAX_ZOOM) at which the square is real photo (``inside`` > 0)."""
    size = inside.shape[0]
    for zoom in np.arange(1.0, MAX_ZOOM + 1e-6, 0.05):
        half = size / (2 * zoom)
        lo, hi = int(round(size / 2 - half)), int(round(size / 2 + half))
        if (inside[lo:hi, lo:hi] > 0).mean() >= INSIDE_SHARE:
            return float(zoom)
    return MAX_ZOOM


def zoom_about_centre(image: np.ndarray, zoom: float, interpolation: int | None = None) -> np.ndarray:
    import cv2

    if zoom == 1.0:
        return image
    size = image.shape[0]
    matrix = np.array([[zoom, 0, size / 2 * (1 - zoom)], [0, zoom, size / 2 * (1 - zoom)]], np.float64)
    flags = cv2.INTER_CUBIC if interpolation is None else interpolation
    return cv2.warpAffine(image, matrix, (size, size), flags=flags, borderMode=cv2.BORDER_REPLICATE)


def zoom_points(points: np.ndarray, zoom: float, size: int) -> np.ndarray:
    return (points - size / 2) * zoom + size / 2


def backdrop(size: int, colour: tuple[int, int, int], seed: int, head_centre: tuple[float, float]) -> np.ndarray:
    """(size, size, 3) uint8 studio paper: gradient, a light pool behind the head, vignette, grain."""
    import cv2

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    cx, cy = head_centre[0] / size, head_centre[1] / size
    pool = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * 0.35**2))
    vignette = 1.0 - 0.10 * ((xx - 0.5) ** 2 + (yy - 0.5) ** 2) / 0.5
    light = (0.90 + 0.10 * pool) * vignette * (1.0 - 0.06 * yy)
    paper = np.asarray(colour, np.float32)[None, None, :] * light[..., None]
    grain = cv2.GaussianBlur(rng.normal(0, 1, (size, size)).astype(np.float32), (0, 0), 0.7) * 2.0
    return np.clip(paper + grain[..., None], 0, 255).astype(np.uint8)


def enclosed(person: np.ndarray) -> np.ndarray:
    """Pixels that are not ``person`` but that the person surrounds (holes): background is what reaches the border
    through non-person pixels. A frame of background is added first, so the flood starts from background even
    where the person touches the corner."""
    import cv2

    h, w = person.shape
    flood = np.pad(person.astype(np.uint8), 1)
    cv2.floodFill(flood, np.zeros((h + 4, w + 4), np.uint8), (0, 0), 2)
    return flood[1:-1, 1:-1] == 0


def person_alpha(image: np.ndarray, lm68: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Soft alpha of the person joined to the face, only where the image is real photo."""
    import cv2

    from gpu_worker.face.blend import feather
    from gpu_worker.face.mesh import dense_points, outline_polygon
    from gpu_worker.face.segment import person_mask

    size = image.shape[0]
    mask = person_mask(image) * (cv2.GaussianBlur((inside > 0).astype(np.float32), (0, 0), size / 150))
    sure = (mask > 0.5).astype(np.uint8)
    count, labels = cv2.connectedComponents(sure)
    centre = np.clip(lm68[27:36].mean(0).round().astype(int), 0, size - 1)
    keep = labels[centre[1], centre[0]]
    if count > 2 and keep:
        joined = cv2.dilate((labels == keep).astype(np.uint8), np.ones((9, 9), np.uint8))
        mask = mask * joined
    alpha = np.clip((mask - 0.3) / 0.5, 0, 1)
    # The face itself and any hole the segmentation leaves inside the person are always the person.
    holes = enclosed(alpha > 0.5).astype(np.float32)
    face = np.zeros((size, size), np.uint8)
    cv2.fillPoly(face, [outline_polygon(dense_points(lm68))], 255)
    alpha = np.maximum(alpha, np.maximum(holes, feather(face, size / 100)))
    return guided_edges(image, alpha, radius=max(2, size // 128))


def guided_edges(image: np.ndarray, alpha: np.ndarray, radius: int, eps: float = 1e-3) -> np.ndarray:
    """The alpha's edge made to follow the photo's own edges (a guided filter, He et al. 2010, guided by the
    grey image): the segmentation model works at 256 px, so upscaled its border is blocky and cuts through hair."""
    import cv2

    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    k = (2 * radius + 1, 2 * radius + 1)

    def box(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(x, -1, k)

    mean_i, mean_a = box(grey), box(alpha)
    cov = box(grey * alpha) - mean_i * mean_a
    var = box(grey * grey) - mean_i**2
    a = cov / (var + eps)
    b = mean_a - a * mean_i
    return np.clip(box(a) * grey + box(b), 0.0, 1.0).astype(np.float32)


def on_backdrop(
    image: np.ndarray, lm68: np.ndarray, inside: np.ndarray, colour: tuple[int, int, int], seed: int
) -> np.ndarray:
    """The portrait with its background replaced by the studio paper."""
    import cv2

    size = image.shape[0]
    alpha = person_alpha(image, lm68, inside)
    paper = backdrop(size, colour, seed, tuple(lm68.mean(0)))
    # Where alpha is partial the old background is mixed in: use the person's own colour nearby instead.
    sure = (alpha > 0.97).astype(np.float32)
    sigma = size / 150
    own = cv2.GaussianBlur(image.astype(np.float32) * sure[..., None], (0, 0), sigma) / np.maximum(
        cv2.GaussianBlur(sure, (0, 0), sigma), 1e-3)[..., None]
    edge = np.clip((0.97 - alpha) / 0.5, 0, 1)[..., None] * (alpha[..., None] > 0.01)
    person = image.astype(np.float32) * (1 - edge) + own * edge
    a = alpha[..., None]
    return np.clip(person * a + paper.astype(np.float32) * (1 - a) + 0.5, 0, 255).astype(np.uint8)


def studio_portrait(
    image: np.ndarray, lm68: np.ndarray, inside: np.ndarray, colour: tuple[int, int, int], seed: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """(the framed portrait on the backdrop, its landmarks, the zoom used)."""
    import cv2

    zoom = framing_zoom(inside)
    size = image.shape[0]
    framed = zoom_about_centre(image, zoom)
    inside = zoom_about_centre(inside, zoom, cv2.INTER_NEAREST)
    lm = zoom_points(lm68, zoom, size)
    return on_backdrop(framed, lm, inside, colour, seed), lm, zoom
