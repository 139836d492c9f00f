"""The CJK font PDFs embed: found through fontconfig, else the bundled WenQuanYi Micro Hei subset."""

import subprocess
import sys
from types import SimpleNamespace

from reportlab.pdfbase.ttfonts import TTFont

import sync.fonts
from sync.fonts import BUNDLED, bundled_font, cjk_font, system_candidates
from sync.fonts.make_subset import gb2312, in_sources
from sync.plates import PlateLabel, make_payload, new_plate_id, plates_sheet_pdf
from tests.poppler import pdf_fonts, pdf_info, pdf_text, without_fonts

KEY = b"k" * 32
SHEET = """
import sys
from sync.plates import PlateLabel, make_payload, new_plate_id, plates_sheet_pdf
labels = [PlateLabel(make_payload(b"k" * 32, new_plate_id(), 1), "P00001", "和平社区", "欧阳娜娜")]
sys.stdout.buffer.write(plates_sheet_pdf(labels, "和平社区门牌"))
"""


def test_the_bundled_font_covers_gb2312_and_every_chinese_character_our_sources_print():
    covered = set(TTFont("bundled-coverage", str(BUNDLED)).face.charToGlyph)
    chinese = {c for c in in_sources() if "\u3000" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef"}
    assert not {ord(c) for c in gb2312() | chinese} - covered
    assert BUNDLED.stat().st_size < 2_000_000


def test_the_bundled_font_ships_with_its_licence():
    assert "Apache License" in (BUNDLED.parent / "LICENSE-Apache-2.0.txt").read_text()[:100]
    assert "Apache" in (BUNDLED.parent / "README.md").read_text()


def test_the_plates_sheet_embeds_every_font_it_uses_and_names_it_in_its_metadata(tmp_path):
    pdf = plates_sheet_pdf([PlateLabel(make_payload(KEY, new_plate_id(), 1), "P00001", "和平社区", "张三丰")], "门牌")
    fonts = pdf_fonts(pdf, tmp_path)
    assert fonts and all(font["emb"] == "yes" for font in fonts)
    assert pdf_info(pdf, tmp_path)["Creator"] == f"CareRounds; {cjk_font().describe()}"


def test_with_no_font_on_the_machine_the_sheet_carries_the_bundled_subset(tmp_path):
    run = subprocess.run([sys.executable, "-c", SHEET], capture_output=True, check=True, env=without_fonts(tmp_path))
    fonts = pdf_fonts(run.stdout, tmp_path)
    assert [(f["name"].split("+")[1], f["emb"], f["uni"]) for f in fonts] == [("WenQuanYiMicroHeiGB2312", "yes", "yes")]
    text = pdf_text(run.stdout, tmp_path)
    assert "和平社区门牌" in text and "欧**娜" in text and "P00001" in text
    assert pdf_info(run.stdout, tmp_path)["Creator"].endswith("WenQuanYi Micro Hei GB2312 (bundled GB2312 subset)")


def test_the_bundled_font_can_be_loaded_beside_the_system_one():
    assert bundled_font().is_bundled and bundled_font().family == "WenQuanYi Micro Hei GB2312"


def test_only_truetype_fonts_covering_simplified_chinese_are_candidates(monkeypatch):
    listing = ("/f/NotoSansCJK-Regular.ttc\t2\tNoto Sans CJK SC\tCFF\tja|zh-cn|zh-tw\n"
               "/f/DejaVuSans.ttf\t0\tDejaVu Sans\tTrueType\taa|en\n"
               "/f/wqy-microhei.ttc\t0\tWenQuanYi Micro Hei\tTrueType\ten|zh-cn\n")
    monkeypatch.setattr(sync.fonts.subprocess, "run", lambda *a, **k: SimpleNamespace(stdout=listing))
    assert [(p.name, i, f) for p, i, f in system_candidates()] == [("wqy-microhei.ttc", 0, "WenQuanYi Micro Hei")]


def test_without_fontconfig_there_are_no_candidates(monkeypatch):
    def missing(*args, **kwargs):
        raise FileNotFoundError("fc-match")

    monkeypatch.setattr(sync.fonts.subprocess, "run", missing)
    assert system_candidates() == []
