"""What a reader sees in a PDF, through poppler-utils (`pdffonts`, `pdfinfo`, `pdftotext`; Debian's poppler-utils,
which .ci/run installs), and a fontconfig that knows no font at all."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest


def _tool(name: str) -> str:
    if path := shutil.which(name):
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{name} is missing: .ci/run installs poppler-utils")
    pytest.skip(f"{name} is not installed (apt-get install poppler-utils)")


def pdf_fonts(pdf: bytes, tmp_path: Path) -> list[dict]:
    """`pdffonts` as rows: name, type, emb (embedded), sub, uni."""
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    lines = subprocess.run([_tool("pdffonts"), str(path)], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in lines.splitlines()[2:]:
        fields = line.split()
        # name type… encoding emb sub uni object-number generation: the type may hold spaces.
        rows.append({"name": fields[0], "type": " ".join(fields[1:-6]), "emb": fields[-5], "sub": fields[-4],
                     "uni": fields[-3]})
    return rows


def pdf_info(pdf: bytes, tmp_path: Path) -> dict:
    """`pdfinfo`'s fields: Title, Creator, Pages…"""
    path = tmp_path / "info.pdf"
    path.write_bytes(pdf)
    lines = subprocess.run([_tool("pdfinfo"), str(path)], capture_output=True, text=True, check=True).stdout
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines.splitlines())}


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "text.pdf"
    path.write_bytes(pdf)
    return subprocess.run([_tool("pdftotext"), "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def pdf_words(pdf: bytes, tmp_path: Path) -> list[dict]:
    """Every word `pdftotext -bbox` finds, with its page's width and its box, in points:
    {"text", "page", "page_width", "x_min", "x_max"}; where a word is drawn, not only what it says
    (the text as in HTML: "&lt;" for "<")."""
    path = tmp_path / "words.pdf"
    path.write_bytes(pdf)
    html = subprocess.run([_tool("pdftotext"), "-bbox", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    words = []
    for number, page in enumerate(re.finditer(r'<page width="([\d.]+)"[^>]*>(.*?)</page>', html, re.S), start=1):
        for x_min, x_max, text in re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" '
                                             r'yMax="[\d.]+">(.*?)</word>', page.group(2)):
            words.append({"text": text, "page": number, "page_width": float(page.group(1)), "x_min": float(x_min),
                          "x_max": float(x_max)})
    return words


def without_fonts(tmp_path: Path) -> dict:
    """An environment in which fontconfig finds no font, as on a server with no CJK font installed."""
    config = tmp_path / "fonts.conf"
    config.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig></fontconfig>\n')
    return {**os.environ, "FONTCONFIG_FILE": str(config)}
