"""Reading a photo file, and decoding it: open safely, apply orientation, bring colours to sRGB,
reduce for detection."""

from __future__ import annotations

import functools
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageCms

from ..errors import DecodeError, ImageTooLarge, InputError, UnsafeToClean, UnsupportedFormat, reason
from .formats import Container, FormatHandler, sniff
from .formats.png import walk
from .metadata import Metadata, read_metadata

# photoguard checks the declared size against its own --max-pixels budget instead
Image.MAX_IMAGE_PIXELS = None
_heif_registered = False
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@dataclass
class PictureFile:
    """A photo file read whole and opened (its header: pixels are decoded later), with its
    structure and the metadata it holds; what the handlers of stills and sequences start from."""

    path: Path
    data: bytes
    handler: FormatHandler
    image: Image.Image
    containers: list[Container]
    metadata: Metadata


def read_file(path: Path, max_pixels: int) -> PictureFile:
    data, handler = read_input(path)
    image = open_image(data, path, max_pixels)
    containers = structure(handler, data, path)
    return PictureFile(path, data, handler, image, containers, read_metadata(image, containers))


def read_input(src: Path) -> tuple[bytes, FormatHandler]:
    try:
        data = src.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", src) from exc
    handler = sniff(data[:32])
    if handler is None:
        raise UnsupportedFormat("the content is not an image photoguard reads", src)
    return data, handler


def structure(handler: FormatHandler, data: bytes, src: Path):
    try:
        return handler.containers(data)
    except ValueError as exc:
        raise DecodeError(f"damaged {handler.name.upper()} structure: {exc}", src) from exc


def register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        import pillow_heif  # deferred: start-up (libheif is loaded with the first photo)

        pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)
        _heif_registered = True


def open_image(data: bytes, path: Path, max_pixels: int) -> Image.Image:
    """Open (header only) and check the declared size; refuse what cannot be cleaned whole."""
    register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = Image.open(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for bad files
        raise DecodeError(f"cannot read the image: {reason(exc)}", path) from exc
    check_size(image.size, max_pixels, path)
    try:
        getattr(image, "n_frames", 1)  # counting frames parses every directory: damage shows here
    except Exception as exc:  # noqa: BLE001
        raise DecodeError(f"cannot read the image's frames: {reason(exc)}", path) from exc
    if image.format == "PNG" and _nothing_after_png_data(data):
        # Pillow decodes a whole PNG to look for an eXIf chunk after the image data (0.3 s at
        # 12 MP); when nothing but IEND follows the data, the chunks before it are all there is
        image.getexif = functools.partial(Image.Image.getexif, image)
    return image


def check_size(size: tuple[int, int], max_pixels: int, path: Path) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise DecodeError(f"the image declares an empty size {width}x{height}", path)
    check_pixels(width * height, max_pixels, path, f"{width}x{height}")


def check_pixels(pixels: int, max_pixels: int, path: Path, what: str) -> None:
    """Refuse a file that declares more pixels (all its frames or pages together) than ``max_pixels``."""
    if pixels > max_pixels:
        raise ImageTooLarge(f"the image declares {what} = {pixels / 1e6:.0f} megapixels, "
                            f"more than the limit of {max_pixels / 1e6:.0f}", path)


def seek(image: Image.Image, index: int, path: Path) -> None:
    """Go to frame or page ``index`` (0 is the first) and decode it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image.seek(index)
            image.load()
    except Exception as exc:  # noqa: BLE001
        raise DecodeError(f"cannot decode frame {index + 1}: {reason(exc)}", path) from exc


def _nothing_after_png_data(data: bytes) -> bool:
    try:
        types = [ctype for ctype, _, _ in walk(data)]
    except ValueError:
        return False
    if b"IDAT" not in types:
        return False
    after_data = types[len(types) - types[::-1].index(b"IDAT"):]
    return after_data == [b"IEND", None]  # None: the walker's end-of-file entry


def load(image: Image.Image, path: Path) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image.load()
    except Exception as exc:  # noqa: BLE001
        raise DecodeError(f"cannot decode the image: {reason(exc)}", path) from exc


def orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - unreadable EXIF: the picture is shown as stored
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def upright(image: Image.Image, path: Path, turn: int | None = None) -> Image.Image:
    """The decoded picture as it is displayed: EXIF orientation ``turn`` baked into the pixels.

    ``turn`` defaults to the image's own tag; pass it when ``image`` is a converted copy
    that no longer carries the original's EXIF.
    """
    load(image, path)
    turn = orientation(image) if turn is None else turn
    if turn == 1:
        return image
    method = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
              4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
              6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}[turn]
    return image.transpose(method)


def displayed_size(image: Image.Image) -> tuple[int, int]:
    width, height = image.size
    return (height, width) if orientation(image) in (5, 6, 7, 8) else (width, height)


def for_detection(data: bytes, path: Path, max_pixels: int, min_side: int) -> Image.Image:
    """An upright RGB copy, decoded at reduced size where the format allows (JPEG draft)."""
    image = open_image(data, path, max_pixels)
    if image.format in ("JPEG", "MPO"):
        width, height = image.size
        scale = min(width, height) / max(min_side, 1)
        if scale >= 2:
            image.draft("RGB", (width // int(min(scale, 8)), height // int(min(scale, 8))))
    picture = upright(image, path)
    return picture if picture.mode == "RGB" else picture.convert("RGB")


def to_srgb(image: Image.Image, path: Path) -> Image.Image:
    """Pixels converted to sRGB so that the colour profile can be dropped without a shift."""
    icc = image.info.get("icc_profile")
    mode = _working_mode(image)
    if not icc:
        return image if image.mode == mode else image.convert(mode)
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        intent = _intent(source)
        if image.mode in ("RGBA", "LA", "P", "PA") or "transparency" in image.info:
            alpha = image.convert("RGBA").getchannel("A")
            rgb = ImageCms.profileToProfile(image.convert("RGB"), source, _SRGB,
                                            renderingIntent=intent)
            rgb.putalpha(alpha)
            return rgb
        if image.mode not in ("RGB", "CMYK", "L"):
            image = image.convert("RGB")
        return ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB" if image.mode != "L" else "L",
                                         renderingIntent=intent)
    except (ImageCms.PyCMSError, OSError, ValueError) as exc:
        raise UnsafeToClean(f"the embedded colour profile cannot be applied ({reason(exc)}), "
                            "so the copy's colours could not be kept", path) from exc


def _intent(profile: ImageCms.ImageCmsProfile) -> int:
    """The profile's own rendering intent, as a colour-managed viewer uses it (it only matters
    for table-based profiles such as CMYK ones; matrix profiles render the same either way)."""
    try:
        intent = ImageCms.getDefaultIntent(profile)
    except ImageCms.PyCMSError:
        return ImageCms.Intent.RELATIVE_COLORIMETRIC
    return intent if intent in (0, 1, 2, 3) else ImageCms.Intent.RELATIVE_COLORIMETRIC


def _working_mode(image: Image.Image) -> str:
    if image.mode in ("RGB", "RGBA", "L", "LA"):
        return image.mode
    if image.mode in ("P", "PA", "1") and ("transparency" in image.info or image.mode == "PA"):
        return "RGBA"
    if image.mode == "1":
        return "L"
    return "RGB"
