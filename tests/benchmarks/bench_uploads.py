"""Upload figures: thumbnail and preview of a 12-megapixel phone photo."""

from __future__ import annotations

import io
import statistics
import time

from PIL import Image

from portfolio.core.uploads.images import make_derivatives

RUNS = 20
SIZE = (4000, 3000)
MAX_PIXELS = 100_000_000


def photo() -> bytes:
    """Gradients for the broad shapes and sensor-like noise for the detail a JPEG decoder has
    to work through, saved the way a phone does: quality 90, stored on its side."""
    gradient = Image.linear_gradient("L").resize(SIZE)
    noise = Image.effect_noise(SIZE, 24).convert("L")
    across = Image.linear_gradient("L").rotate(90).resize(SIZE)
    image = Image.merge("RGB", (gradient, Image.blend(noise, across, 0.5),
                                gradient.transpose(Image.Transpose.FLIP_TOP_BOTTOM)))
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    return buffer.getvalue()


def run():
    data = photo()
    timings = []
    for _ in range(RUNS):
        start = time.perf_counter()
        make_derivatives(io.BytesIO(data), "IMG_0001.jpg", "image/jpeg", MAX_PIXELS)
        timings.append(time.perf_counter() - start)
    megapixels = SIZE[0] * SIZE[1] / 1e6
    yield (f"make_derivatives (target < 150 ms), {megapixels:.0f}-megapixel JPEG of "
           f"{len(data) / 1e6:.1f} MB, {RUNS} runs:")
    yield (f"  {statistics.median(timings) * 1e3:6.1f} ms median   "
           f"{max(timings) * 1e3:6.1f} ms max")
