"""ICC colour profiles: a sanitised copy that keeps the colours and names nobody.

Why keep a profile at all: the lossless PNG path writes the original's pixels as they are, so it
cannot convert them to sRGB; dropping the profile of a Display P3 or Adobe RGB photo would
shift its colours. The profile is rebuilt instead with only the tags that define the colour
transform (each cut to the length its values take), a neutral description, and the header
fields that name a device maker, model, profile creator, date or checksum zeroed. Re-encoded copies are converted to sRGB and
carry no profile (see picture.to_srgb).
"""

from __future__ import annotations

import re
import struct

import numpy as np

HEADER_SIZE = 128
#: tags that define how to turn the stored numbers into colours; everything else is dropped
COLOUR_TAGS = frozenset(
    {b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC", b"kTRC", b"wtpt", b"bkpt", b"chad",
     b"chrm", b"gamt", b"cicp"}
    | {b"A2B%d" % i for i in range(3)} | {b"B2A%d" % i for i in range(3)}
    | {b"D2B%d" % i for i in range(4)} | {b"B2D%d" % i for i in range(4)}
)
NEUTRAL_NAME = "Embedded Profile"
COPYRIGHT = "No copyright, use freely"
#: descriptions of standard working spaces, kept as they are so viewers still show the name
_STANDARD_NAMES = re.compile(
    r"^(sRGB( IEC61966-2[.-]1)?( black scaled)?|Display P3|DCI-P3.*|Adobe RGB \(1998\)|"
    r"ProPhoto RGB|Rec\.? ?2020.*|Rec\.? ?709.*|Gray Gamma [0-9.]+|Dot Gain \d+%|"
    r"U\.S\. Web Coated \(SWOP\) v2|Coated FOGRA39.*|" + re.escape(NEUTRAL_NAME) + ")$")
# header byte ranges that are zeroed: CMM, date, platform, maker, model, attributes,
# creator, profile ID, reserved
_ZEROED = ((4, 8), (24, 36), (40, 44), (48, 64), (80, 128))


def _tags(profile: bytes) -> list[tuple[bytes, bytes]]:
    """(signature, data) for each tag, in table order. Raises ValueError when malformed."""
    if len(profile) < HEADER_SIZE + 4 or profile[36:40] != b"acsp":
        raise ValueError("not an ICC profile")
    (count,) = struct.unpack(">I", profile[128:132])
    if count > 1000 or 132 + 12 * count > len(profile):
        raise ValueError("ICC tag table runs past the profile")
    found = []
    for i in range(count):
        signature, offset, size = struct.unpack(">4sII", profile[132 + 12 * i : 144 + 12 * i])
        if offset < 132 or offset + size > len(profile):
            raise ValueError(f"ICC tag {signature!r} runs past the profile")
        found.append((signature, profile[offset : offset + size]))
    return found


#: parametric curve function type -> number of parameters
_PARA_PARAMS = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}


def _lut_length(data: bytes) -> int:
    inputs, outputs, grid = data[8], data[9], data[10]
    if data[:4] == b"mft1":
        return 48 + 256 * inputs + grid ** inputs * outputs + 256 * outputs
    inputs_n, outputs_n = struct.unpack(">HH", data[48:52])
    return 52 + 2 * (inputs_n * inputs + grid ** inputs * outputs + outputs_n * outputs)


#: tag type -> the length of its data, read from its fixed part
_LENGTHS = {
    b"XYZ ": lambda data: 20,  # every XYZ tag kept holds one value
    b"sf32": lambda data: 44,  # chad: a 3x3 matrix
    b"curv": lambda data: 12 + 2 * struct.unpack(">I", data[8:12])[0],
    b"para": lambda data: 12 + 4 * _PARA_PARAMS[struct.unpack(">H", data[8:10])[0]],
    b"chrm": lambda data: 12 + 8 * struct.unpack(">H", data[8:10])[0],
    b"cicp": lambda data: 12,
    b"mft1": _lut_length,
    b"mft2": _lut_length,
}


def _exact(signature: bytes, data: bytes) -> bytes:
    """A kept tag's data cut to the length its values take, its reserved bytes zeroed: nothing
    can hide after a tag's values. Raises ValueError for types whose length is not known here."""
    length = _LENGTHS.get(data[:4])
    if length is None:
        raise ValueError(f"ICC tag {signature!r} of type {data[:4]!r} is not rebuilt")
    try:
        size = length(data)
    except (struct.error, KeyError, IndexError) as exc:
        raise ValueError(f"ICC tag {signature!r} is malformed") from exc
    if size > len(data):
        raise ValueError(f"ICC tag {signature!r} is cut short")
    return data[:4] + bytes(4) + data[8:size]


def _text(data: bytes) -> str | None:
    """The text of a desc (v2) or mluc (v4, first record) tag."""
    try:
        if data[:4] == b"desc":
            (length,) = struct.unpack(">I", data[8:12])
            return data[12 : 12 + length].split(b"\0")[0].decode("latin-1")
        if data[:4] == b"mluc":
            length, offset = struct.unpack(">II", data[20:28])
            return data[offset : offset + length].decode("utf-16-be")
    except (struct.error, UnicodeDecodeError):
        return None
    return None


def _text_tag(text: str, version: int, kind: str) -> bytes:
    if version >= 4:
        encoded = text.encode("utf-16-be")
        return b"mluc\0\0\0\0" + struct.pack(">II2s2sII", 1, 12, b"en", b"US", len(encoded), 28) + encoded
    ascii_text = text.encode("ascii") + b"\0"
    if kind == "cprt":
        return b"text\0\0\0\0" + ascii_text
    return (b"desc\0\0\0\0" + struct.pack(">I", len(ascii_text)) + ascii_text
            + struct.pack(">IIHB", 0, 0, 0, 0) + b"\0" * 67)


def sanitise(profile: bytes) -> bytes:
    """The profile with only colour tags, a standard or neutral name and an anonymous header."""
    tags = dict(_tags(profile))
    version = profile[8]
    name = _text(tags.get(b"desc", b""))
    kept = {sig: _exact(sig, data) for sig, data in tags.items() if sig in COLOUR_TAGS}
    if not kept:
        raise ValueError("the ICC profile holds no colour tags")
    kept[b"desc"] = _text_tag(name if name and _STANDARD_NAMES.match(name) else NEUTRAL_NAME,
                              version, "desc")
    kept[b"cprt"] = _text_tag(COPYRIGHT, version, "cprt")
    header = bytearray(profile[:HEADER_SIZE])
    for start, end in _ZEROED:
        header[start:end] = bytes(end - start)
    return _assemble(bytes(header), kept)


def _assemble(header: bytes, tags: dict[bytes, bytes]) -> bytes:
    """Header, tag table and data in a canonical layout (sorted tags, identical data stored
    once), so that sanitise is idempotent."""
    order = sorted(tags)
    table_end = HEADER_SIZE + 4 + 12 * len(order)
    body, offsets, entries = bytearray(), {}, []
    for sig in order:
        data = tags[sig]
        if data not in offsets:
            body += b"\0" * (-(table_end + len(body)) % 4)
            offsets[data] = table_end + len(body)
            body += data
        entries.append(struct.pack(">4sII", sig, offsets[data], len(data)))
    out = bytearray(header) + struct.pack(">I", len(order)) + b"".join(entries) + body
    out += b"\0" * (-len(out) % 4)
    out[0:4] = struct.pack(">I", len(out))
    return bytes(out)


def is_clean(profile: bytes) -> bool:
    """True when ``profile`` is already what ``sanitise`` makes of it."""
    try:
        return sanitise(profile) == profile
    except ValueError:
        return False


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def matrix_profile(primaries: tuple, white: tuple = (0.3127, 0.3290), gamma: float | None = None,
                   name: str = "RGB") -> bytes:
    """A minimal v2 RGB matrix/TRC display profile: ``primaries`` as xy chromaticities.

    ``gamma`` None means the sRGB curve. Used to make test photos with Display P3 or
    Adobe RGB colours without shipping a profile file.
    """
    def xyz(x, y):
        return np.array([x / y, 1.0, (1 - x - y) / y])

    columns = np.stack([xyz(*p) for p in primaries], axis=1)
    white_xyz = xyz(*white)
    scale = np.linalg.solve(columns, white_xyz)
    rgb_to_xyz = columns * scale
    # Bradford adaptation of the media white to the D50 profile connection space
    bradford = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
    d50 = np.array([0.9642, 1.0, 0.8249])
    cone = np.diag((bradford @ d50) / (bradford @ white_xyz))
    adapt = np.linalg.inv(bradford) @ cone @ bradford
    d50_matrix = adapt @ rgb_to_xyz

    def xyz_tag(values):
        return b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in values)

    if gamma is None:  # sRGB: parametric curve type 3 is v4 only, so a sampled curve
        samples = [(v / 1023) / 12.92 if v / 1023 <= 0.04045 else ((v / 1023 + 0.055) / 1.055) ** 2.4
                   for v in range(1024)]
        curve = b"curv\0\0\0\0" + struct.pack(">I", 1024) + b"".join(
            struct.pack(">H", round(s * 65535)) for s in samples)
    else:
        curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256))
    tags = {b"desc": _text_tag(name, 2, "desc"), b"cprt": _text_tag(COPYRIGHT, 2, "cprt"),
            b"wtpt": xyz_tag(d50), b"rXYZ": xyz_tag(d50_matrix[:, 0]), b"gXYZ": xyz_tag(d50_matrix[:, 1]),
            b"bXYZ": xyz_tag(d50_matrix[:, 2]), b"rTRC": curve, b"gTRC": curve, b"bTRC": curve,
            b"chad": b"sf32\0\0\0\0" + b"".join(_s15(v) for v in adapt.flatten())}
    header = bytearray(HEADER_SIZE)
    header[8:12] = bytes([2, 0x10, 0, 0])
    header[12:24] = b"mntrRGB XYZ "
    header[36:40] = b"acsp"
    header[68:80] = b"".join(_s15(v) for v in d50)
    return _assemble(bytes(header), tags)


DISPLAY_P3 = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))
ADOBE_RGB = ((0.640, 0.330), (0.210, 0.710), (0.150, 0.060))
