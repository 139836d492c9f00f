"""Builds the bundled CJK font: WenQuanYi Micro Hei cut down to GB2312 and every character in our sources.

Run by a developer when the source font, the demo's names or the labels change, never at run time:
    pip install fonttools && python -m sync.fonts.make_subset [/path/to/wqy-microhei.ttc]
Debian's fonts-wqy-microhei (which CI installs) provides the source file.
"""

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SOURCE = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
TARGET = HERE / "wqy-microhei-gb2312.ttf"
# Names, labels and messages that the reports and plates can print: the demo city's people and
# providers, the console's and the reports' wording, and the translations.
SCANNED = ("backend", "sync", "schemas")
FAMILY = "WenQuanYi Micro Hei GB2312"
POSTSCRIPT_NAME = "WenQuanYiMicroHeiGB2312"
_WIDE = re.compile(r"[^\x00-\x7f]")


def gb2312() -> set[str]:
    chars = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def in_sources() -> set[str]:
    chars = set()
    for folder in SCANNED:
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in {".py", ".html", ".po", ".md", ".json"} and path.is_file():
                chars |= set(_WIDE.findall(path.read_text(encoding="utf-8", errors="ignore")))
    return chars


def wanted() -> set[str]:
    latin = {chr(c) for c in range(0x20, 0x7F)} | {chr(c) for c in range(0xA0, 0x180)}
    punctuation = {chr(c) for c in range(0x2000, 0x2070)} | {chr(c) for c in range(0x3000, 0x3040)}
    fullwidth = {chr(c) for c in range(0xFF01, 0xFF66)}
    return latin | punctuation | fullwidth | gb2312() | in_sources()


def main(source: Path = SOURCE) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(source, fontNumber=0)  # face 0 of the collection: Micro Hei (1 is its Mono)
    options = subset.Options()
    options.hinting = False  # hints only help Latin on screens at small sizes; print needs none
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in wanted()])
    subsetter.subset(font)
    _rename(font["name"])
    font.save(TARGET)
    print(f"{TARGET.name}: {len(font.getBestCmap())} characters, {TARGET.stat().st_size:,} bytes")


def _rename(names) -> None:
    """A name of its own, so a PDF tells the subset from the full system font (and reportlab, which
    keys faces by PostScript name, can hold both in one process)."""
    for record in list(names.names):
        if record.nameID in (1, 3, 4, 16, 18):
            names.setName(FAMILY, record.nameID, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 6:
            names.setName(POSTSCRIPT_NAME, record.nameID, record.platformID, record.platEncID, record.langID)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
