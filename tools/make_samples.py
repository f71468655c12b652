#!/usr/bin/env python3
"""(Re)generate ``sample_images/``: demo photos with planted private metadata.

The pictures come from public-domain / CC0 photos that ship *inside* PyPI
packages, so nothing is downloaded when this runs:

* ``skimage.data.astronaut()``  -- NASA portrait of Eileen Collins (public domain)
* ``matplotlib``'s ``mpl-data/sample_data/grace_hopper.jpg`` -- US Navy
  portrait of Grace Hopper (public domain)
* ``skimage.data.coffee()``     -- coffee cup, CC0 (Rachel Michetti), no faces

On top of the pixels the script plants the kind of metadata a phone or camera
leaves in a family photo (GPS, camera serial number, capture dates, owner name,
an EXIF thumbnail that still shows the *unblurred* face, XMP, a JPEG comment,
an EXIF orientation), so that ``photoguard clean sample_images/`` has something
to remove.  See ``sample_images/README.md`` for the table of what is where.

Usage::

    pip install scikit-image matplotlib    # dev tools, bundle the source photos
    python tools/make_samples.py           # writes sample_images/
    python tools/make_samples.py --out DIR

The output is deterministic: no clocks, no randomness, fixed encoder settings,
so the same library versions give the same bytes on every run.
"""

from __future__ import annotations

import argparse
import io
import struct
import sys
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "sample_images"

JPEG_QUALITY = 88
THUMB_LONG_SIDE = 160
HEIC_QUALITY = 70


def _missing(what: str, install: str) -> None:
    sys.stderr.write(
        f"make_samples.py: missing Python package(s): {what}\n"
        f"The source photos ship inside PyPI packages; install the dev tools with:\n"
        f"    pip install {install}\n"
    )
    sys.exit(2)


def _require():
    """Import everything up front and fail with one clear message."""
    missing = []
    mods = {}
    for name, pip_name in (
        ("numpy", "numpy"),
        ("PIL", "Pillow"),
        ("piexif", "piexif"),
        ("pillow_heif", "pillow-heif"),
        ("skimage.data", "scikit-image"),
        ("matplotlib.cbook", "matplotlib"),
    ):
        try:
            mods[name] = __import__(name, fromlist=["_"])
        except ImportError:
            missing.append(pip_name)
    if missing:
        _missing(", ".join(missing), " ".join(missing))
    return mods


# --------------------------------------------------------------------------
# pixel sources
# --------------------------------------------------------------------------

def load_sources(mods):
    from PIL import Image

    np = mods["numpy"]
    skdata = mods["skimage.data"]
    cbook = mods["matplotlib.cbook"]

    astronaut = Image.fromarray(np.ascontiguousarray(skdata.astronaut()), "RGB")
    coffee = Image.fromarray(np.ascontiguousarray(skdata.coffee()), "RGB")

    try:
        hopper_path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    except Exception as exc:  # pragma: no cover - depends on matplotlib build
        sys.stderr.write(
            "make_samples.py: matplotlib's bundled sample_data/grace_hopper.jpg "
            f"was not found ({exc}).\nReinstall with: pip install matplotlib\n"
        )
        sys.exit(2)
    with Image.open(hopper_path) as im:
        # via numpy: drops the source file's own COM comment / JFIF info
        hopper = Image.fromarray(np.asarray(im.convert("RGB")), "RGB")
    return astronaut, hopper, coffee


# --------------------------------------------------------------------------
# metadata builders
# --------------------------------------------------------------------------

def _rat(x: float, den: int = 10000):
    f = Fraction(x).limit_denominator(den)
    return (f.numerator, f.denominator)


def _dms(deg: float):
    deg = abs(deg)
    d = int(deg)
    m_full = (deg - d) * 60
    m = int(m_full)
    s = round((m_full - m) * 60 * 100)
    return ((d, 1), (m, 1), (s, 100))


def gps_ifd(piexif, lat, lon, alt, local_dt: str, tz: str):
    """GPS IFD; GPS time/date are UTC, derived from the local capture time."""
    G = piexif.GPSIFD
    sign = -1 if tz.startswith("-") else 1
    th, tm = (int(v) for v in tz[1:].split(":"))
    utc = (datetime.strptime(local_dt, "%Y:%m:%d %H:%M:%S")
           - sign * timedelta(hours=th, minutes=tm))
    return {
        G.GPSVersionID: (2, 3, 0, 0),
        G.GPSLatitudeRef: b"N" if lat >= 0 else b"S",
        G.GPSLatitude: _dms(lat),
        G.GPSLongitudeRef: b"E" if lon >= 0 else b"W",
        G.GPSLongitude: _dms(lon),
        G.GPSAltitudeRef: 0,
        G.GPSAltitude: _rat(alt, 100),
        G.GPSTimeStamp: ((utc.hour, 1), (utc.minute, 1), (utc.second, 1)),
        G.GPSDateStamp: utc.strftime("%Y:%m:%d").encode(),
        G.GPSMapDatum: b"WGS-84",
    }


def make_thumbnail(img) -> bytes:
    from PIL import Image

    w, h = img.size
    scale = THUMB_LONG_SIDE / max(w, h)
    thumb = img.resize((max(1, round(w * scale)), max(1, round(h * scale))),
                       Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    thumb.save(buf, "JPEG", quality=80, optimize=False, subsampling=2)
    return strip_app_segments(buf.getvalue())


def build_exif(piexif, img, p, *, orientation=1, thumbnail=True) -> bytes:
    """EXIF block (TIFF header onwards) for sample ``p`` and pixels ``img``."""
    I, E = piexif.ImageIFD, piexif.ExifIFD
    zeroth = {
        I.Make: p["make"].encode(),
        I.Model: p["model"].encode(),
        I.Orientation: orientation,
        I.XResolution: (72, 1),
        I.YResolution: (72, 1),
        I.ResolutionUnit: 2,
        I.Software: p["software"].encode(),
        I.DateTime: p["datetime"].encode(),
        I.Artist: p["artist"].encode(),
        I.Copyright: f"(c) {p['datetime'][:4]} {p['artist']}".encode(),
        I.ImageDescription: p["description"].encode(),
        I.YCbCrPositioning: 1,
    }
    exif = {
        E.ExifVersion: b"0232",
        E.FlashpixVersion: b"0100",
        E.ComponentsConfiguration: b"\x01\x02\x03\x00",
        E.DateTimeOriginal: p["datetime"].encode(),
        E.DateTimeDigitized: p["datetime"].encode(),
        E.OffsetTime: p["tz"].encode(),
        E.OffsetTimeOriginal: p["tz"].encode(),
        E.OffsetTimeDigitized: p["tz"].encode(),
        E.SubSecTimeOriginal: b"042",
        E.ExposureTime: (1, 120),
        E.FNumber: (18, 10),
        E.ISOSpeedRatings: 100,
        E.FocalLength: _rat(p["focal"], 100),
        E.ColorSpace: 1,
        E.PixelXDimension: img.size[0],
        E.PixelYDimension: img.size[1],
        E.CameraOwnerName: p["artist"].encode(),
        E.BodySerialNumber: p["serial"].encode(),
        E.LensMake: p["make"].encode(),
        E.LensModel: p["lens"].encode(),
        E.LensSerialNumber: p["lens_serial"].encode(),
        E.ImageUniqueID: p["unique_id"].encode(),
    }
    gps = gps_ifd(piexif, p["lat"], p["lon"], p["alt"], p["datetime"], p["tz"])
    data = {"0th": zeroth, "Exif": exif, "GPS": gps, "1st": {}, "thumbnail": None}
    if thumbnail:
        data["1st"] = {
            I.Compression: 6,
            I.XResolution: (72, 1),
            I.YResolution: (72, 1),
            I.ResolutionUnit: 2,
        }
        data["thumbnail"] = make_thumbnail(img)
    raw = piexif.dump(data)
    assert raw.startswith(b"Exif\x00\x00")
    return raw[6:]


def build_xmp(p) -> bytes:
    lat, lon = p["lat"], p["lon"]

    def xmp_coord(v, pos, neg):
        v_abs = abs(v)
        d = int(v_abs)
        m = (v_abs - d) * 60
        return f"{d},{m:.4f}{pos if v >= 0 else neg}"

    date_iso = p["datetime"].replace(":", "-", 2).replace(" ", "T") + p["tz"]
    xml = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="photoguard make_samples">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
    xmlns:exif="http://ns.adobe.com/exif/1.0/"
    xmlns:aux="http://ns.adobe.com/exif/1.0/aux/"
    xmp:CreateDate="{date_iso}"
    xmp:CreatorTool="{p['software']}"
    photoshop:City="{p['city']}"
    photoshop:State="{p['state']}"
    photoshop:Country="{p['country']}"
    exif:GPSLatitude="{xmp_coord(lat, 'N', 'S')}"
    exif:GPSLongitude="{xmp_coord(lon, 'E', 'W')}"
    aux:SerialNumber="{p['serial']}">
   <dc:creator><rdf:Seq><rdf:li>{p['artist']}</rdf:li></rdf:Seq></dc:creator>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{p['title']}</rdf:li></rdf:Alt></dc:title>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{p['description']}</rdf:li></rdf:Alt></dc:description>
   <dc:subject><rdf:Bag>{''.join(f'<rdf:li>{k}</rdf:li>' for k in p['keywords'])}</rdf:Bag></dc:subject>
   <Iptc4xmpExt:PersonInImage><rdf:Bag>{''.join(f'<rdf:li>{n}</rdf:li>' for n in p['people'])}</rdf:Bag></Iptc4xmpExt:PersonInImage>
   <Iptc4xmpExt:LocationShown><rdf:Bag><rdf:li rdf:parseType="Resource">
    <Iptc4xmpExt:Sublocation>{p['street']}</Iptc4xmpExt:Sublocation>
    <Iptc4xmpExt:City>{p['city']}</Iptc4xmpExt:City>
   </rdf:li></rdf:Bag></Iptc4xmpExt:LocationShown>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    return xml.encode("utf-8")


# --------------------------------------------------------------------------
# JPEG assembly (done by hand so the segment layout does not depend on the
# Pillow version: SOI, APP1 Exif, APP1 XMP, COM, then the encoded image)
# --------------------------------------------------------------------------

def strip_app_segments(jpeg: bytes) -> bytes:
    """Drop APPn / COM segments that the encoder wrote (e.g. JFIF APP0)."""
    assert jpeg[:2] == b"\xff\xd8", "not a JPEG"
    out = [b"\xff\xd8"]
    i = 2
    while True:
        marker = jpeg[i:i + 2]
        if marker[0] != 0xFF:
            raise ValueError("corrupt JPEG from encoder")
        m = marker[1]
        if m == 0xDA:  # start of scan: keep the rest verbatim
            out.append(jpeg[i:])
            break
        (length,) = struct.unpack(">H", jpeg[i + 2:i + 4])
        seg = jpeg[i:i + 2 + length]
        if not (0xE0 <= m <= 0xEF or m == 0xFE):
            out.append(seg)
        i += 2 + length
    return b"".join(out)


def _segment(marker: int, payload: bytes) -> bytes:
    if len(payload) + 2 > 0xFFFF:
        raise ValueError(f"segment 0x{marker:02X} too large ({len(payload)} bytes)")
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def encode_jpeg(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=False,
             progressive=False, subsampling=2)
    return strip_app_segments(buf.getvalue())


def assemble_jpeg(body: bytes, *, exif: bytes | None = None,
                  xmp: bytes | None = None, comment: str | None = None) -> bytes:
    segs = [b"\xff\xd8"]
    if exif:
        segs.append(_segment(0xE1, b"Exif\x00\x00" + exif))
    if xmp:
        segs.append(_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + xmp))
    if comment:
        segs.append(_segment(0xFE, comment.encode("utf-8")))
    segs.append(body[2:])
    return b"".join(segs)


# --------------------------------------------------------------------------
# the sample set
# --------------------------------------------------------------------------

# Invented people and places. GPS points at public landmarks, not at homes.
FAMILY = dict(
    artist="Daniel Example",
    software="Android 14 / Camera 9.2",
    country="USA",
)

P_ASTRONAUT = dict(
    FAMILY,
    make="Google", model="Pixel 8", lens="Pixel 8 back camera 6.9mm f/1.68", focal=6.9,
    serial="PX8-4C7F19B2", lens_serial="LNS-0007731",
    unique_id="A1B2C3D4E5F60718293A4B5C6D7E8F90",
    datetime="2023:06:17 15:42:07", tz="-05:00",
    lat=29.559273, lon=-95.089978, alt=12.0,  # Space Center Houston
    street="12 Oak Street", city="Houston", state="TX",
    title="Emma's 5th birthday",
    description="Emma's 5th birthday at home, 12 Oak Street",
    keywords=["birthday", "Emma", "family"],
    people=["Emma Example"],
)

P_HOPPER = dict(
    FAMILY,
    make="Apple", model="iPhone 13", lens="iPhone 13 back dual camera 5.1mm f/1.6", focal=5.1,
    serial="F2LXK0QJN72V", lens_serial="DN8422501J2Q1",
    unique_id="0F1E2D3C4B5A69788796A5B4C3D2E1F0",
    datetime="2022:12:24 18:05:31", tz="-05:00",
    lat=38.889248, lon=-77.050636, alt=8.5,  # Lincoln Memorial
    street="12 Oak Street", city="Arlington", state="VA",
    title="Grandma at Christmas",
    description="Grandma Rose at Christmas dinner, 12 Oak Street",
    keywords=["christmas", "grandma", "family"],
    people=["Rose Example"],
)

P_GROUP = dict(
    P_ASTRONAUT,
    datetime="2023:06:17 16:10:55",
    unique_id="11223344556677889900AABBCCDDEEFF",
    title="Emma and Grandma",
    description="Emma and Grandma Rose in the garden, 12 Oak Street",
    keywords=["birthday", "garden", "family"],
    people=["Emma Example", "Rose Example"],
)

P_COFFEE = dict(
    FAMILY,
    make="Google", model="Pixel 8", lens="Pixel 8 back camera 6.9mm f/1.68", focal=6.9,
    serial="PX8-4C7F19B2", lens_serial="LNS-0007731",
    unique_id="C0FFEE00C0FFEE00C0FFEE00C0FFEE00",
    datetime="2023:06:18 08:03:12", tz="-05:00",
    lat=29.760427, lon=-95.369803, alt=15.0,  # downtown Houston
    description="Morning coffee",
)

P_HEIC = dict(
    P_ASTRONAUT,
    make="Apple", model="iPhone 15", lens="iPhone 15 back dual camera 6.0mm f/1.6", focal=6.0,
    serial="G7QPD3X1M0NR", lens_serial="DN9031177K4Z8",
    unique_id="5EC0DE5EC0DE5EC0DE5EC0DE5EC0DE00",
    datetime="2023:06:17 15:55:48",
    software="17.5.1",
)


def make_group(astronaut, hopper):
    """Two real faces side by side, 512 px high."""
    from PIL import Image

    h = 512
    a = astronaut.resize((round(astronaut.width * h / astronaut.height), h),
                         Image.Resampling.LANCZOS)
    g = hopper.resize((round(hopper.width * h / hopper.height), h),
                      Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (a.width + g.width, h))
    canvas.paste(a, (0, 0))
    canvas.paste(g, (a.width, 0))
    return canvas


def build_all(mods) -> dict[str, bytes]:
    from PIL import Image

    piexif = mods["piexif"]
    pillow_heif = mods["pillow_heif"]
    astronaut, hopper, coffee = load_sources(mods)
    files: dict[str, bytes] = {}

    # 1. astronaut_gps.jpg -- the full set, upright.
    files["astronaut_gps.jpg"] = assemble_jpeg(
        encode_jpeg(astronaut),
        exif=build_exif(piexif, astronaut, P_ASTRONAUT),
        xmp=build_xmp(P_ASTRONAUT),
        comment="Emma's 5th birthday, 12 Oak Street",
    )

    # 2. hopper_rotated_exif6.jpg -- pixels stored rotated 90 deg CCW, as a
    #    phone held in portrait does; Orientation=6 ("rotate 90 CW to view")
    #    makes it display upright. The thumbnail is stored the same way.
    stored = hopper.transpose(Image.Transpose.ROTATE_90)
    stored_body = encode_jpeg(stored)
    files["hopper_rotated_exif6.jpg"] = assemble_jpeg(
        stored_body,
        exif=build_exif(piexif, stored, P_HOPPER, orientation=6),
        xmp=build_xmp(P_HOPPER),
        comment="Grandma Rose, Christmas 2022, 12 Oak Street",
    )

    # 3. sideways_no_tag.jpg -- the very same pixels/scan data, no metadata
    #    at all: a genuinely sideways photo (faces lie on their side).
    files["sideways_no_tag.jpg"] = stored_body

    # 4. group_two_faces.jpg -- two faces in one picture.
    group = make_group(astronaut, hopper)
    files["group_two_faces.jpg"] = assemble_jpeg(
        encode_jpeg(group),
        exif=build_exif(piexif, group, P_GROUP),
        xmp=build_xmp(P_GROUP),
        comment="Emma and Grandma Rose, 12 Oak Street",
    )

    # 5. coffee_gps.jpg -- no faces, but still GPS / camera / date EXIF.
    files["coffee_gps.jpg"] = assemble_jpeg(
        encode_jpeg(coffee),
        exif=build_exif(piexif, coffee, P_COFFEE, thumbnail=False),
    )

    # 6. astronaut.heic -- HEIC with EXIF (GPS, serial, dates) and XMP.
    heic_exif = b"Exif\x00\x00" + build_exif(piexif, astronaut, P_HEIC,
                                             thumbnail=False)
    heif = pillow_heif.from_pillow(astronaut)
    heif[0].info.pop("exif", None)
    buf = io.BytesIO()
    heif.save(buf, format="HEIF", quality=HEIC_QUALITY, exif=heic_exif,
              xmp=build_xmp(P_HEIC), save_all=False)
    files["astronaut.heic"] = buf.getvalue()
    return files


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT,
                    help=f"output directory (default: {DEFAULT_OUT})")
    args = ap.parse_args(argv)

    mods = _require()
    files = build_all(mods)
    args.out.mkdir(parents=True, exist_ok=True)
    total = 0
    for name, data in files.items():
        (args.out / name).write_bytes(data)
        total += len(data)
        print(f"{len(data):>9,d}  {args.out / name}")
    print(f"{total:>9,d}  total ({len(files)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
