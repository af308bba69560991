"""Reading a written chart back with Pillow and checking that it holds a picture, not a blank."""
import numpy as np
from PIL import Image


def read_chart(path, min_width: int = 300, min_height: int = 200) -> np.ndarray:
    """The PNG's (H, W, 3) RGB pixels, once it is known to be a chart-sized image with content:
    many colours (text, axes, data) and a fair share of pixels that are not the background."""
    with Image.open(path) as image:
        assert image.format == "PNG", image.format
        rgb = np.asarray(image.convert("RGB"))
    height, width, _ = rgb.shape
    assert width >= min_width and height >= min_height, rgb.shape
    colours, counts = np.unique(rgb.reshape(-1, 3), axis=0, return_counts=True)
    assert len(colours) > 16, f"only {len(colours)} colours"
    assert counts.max() < 0.95 * height * width, "almost every pixel is the background"
    return rgb
