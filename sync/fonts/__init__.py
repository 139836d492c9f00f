"""The CJK font every PDF embeds: a TrueType one that fontconfig finds, else the bundled subset.

reportlab's CID fonts (STSong-Light) are never embedded, so a reader without a Chinese font shows
blank glyphs; a TrueType font is embedded, cut down by reportlab to the glyphs a document uses.
The bundled file is WenQuanYi Micro Hei cut to GB2312 and our own wording (make_subset.py), so a
machine with no CJK font at all still prints every label and every GB2312 name.
"""

import functools
import subprocess
from dataclasses import dataclass
from pathlib import Path

BUNDLED = Path(__file__).resolve().parent / "wqy-microhei-gb2312.ttf"
BUNDLED_FAMILY = "WenQuanYi Micro Hei GB2312"
FONT = "CareRoundsCJK"  # the name documents use once cjk_font() has registered the chosen file under it


@dataclass(frozen=True)
class CjkFont:
    name: str  # as registered with reportlab: what setFont and ParagraphStyle take
    family: str
    path: Path
    is_bundled: bool

    def describe(self) -> str:
        """For the PDF's metadata, so anyone can tell which font a printed file carries."""
        origin = "bundled GB2312 subset" if self.is_bundled else f"system font {self.path.name}"
        return f"CJK font embedded: {self.family} ({origin})"


@functools.cache
def cjk_font() -> CjkFont:
    """Registered once per process as FONT: the first system candidate reportlab can embed, else the bundled one."""
    for path, index, family in system_candidates():
        if font := _register(FONT, path, index, family, is_bundled=False):
            return font
    return bundled_font(FONT)


@functools.cache
def bundled_font(name: str = f"{FONT}-bundled") -> CjkFont:
    """The subset shipped with the package: every GB2312 character and every one our sources print."""
    font = _register(name, BUNDLED, 0, BUNDLED_FAMILY, is_bundled=True)
    assert font, "the bundled CJK font is missing or damaged"
    return font


def system_candidates() -> list[tuple[Path, int, str]]:
    """Fonts covering simplified Chinese in fontconfig's order of preference for a sans face.

    Only TrueType outlines: reportlab cannot embed CFF ones (the OpenType Noto Sans CJK and Source
    Han Sans), and skipping them here avoids parsing 20 MB collections for nothing.
    """
    try:
        listing = subprocess.run(
            ["fc-match", "-s", "-f", "%{file}\t%{index}\t%{family[0]}\t%{fontformat}\t%{lang}\n", "sans:lang=zh-cn"],
            capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []  # no fontconfig on this machine
    candidates = []
    for line in listing.splitlines():
        fields = line.split("\t")
        if len(fields) == 5 and fields[3] == "TrueType" and "zh-cn" in fields[4].split("|"):
            candidates.append((Path(fields[0]), int(fields[1] or 0), fields[2]))
    return candidates


def _register(name: str, path: Path, index: int, family: str, is_bundled: bool) -> CjkFont | None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    try:
        pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=index))
    except (OSError, TTFError):
        return None
    return CjkFont(name, family, path, is_bundled)
