"""The PDF maker: the portal's own fonts are embedded, and a document can fetch nothing but static files."""

import shutil
import subprocess

import pytest

from nhs_joint.pdf import RefusedFetch, render_pdf


def pdf_text(data, tmp_path):
    path = tmp_path / "document.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_a_document_is_laid_out_with_the_shipped_font(tmp_path):
    data = render_pdf("<h1>North East and Yorkshire</h1><p>Four-hour A&amp;E standard: 76.2%</p>")
    assert data.startswith(b"%PDF")
    text = pdf_text(data, tmp_path)
    assert "North East and Yorkshire" in text
    assert "76.2%" in text
    fonts = subprocess.run(
        ["pdffonts", str(tmp_path / "document.pdf")], check=True, capture_output=True, text=True
    ).stdout
    assert "Portal-Sans" in fonts  # the @font-face of static/fonts, embedded (a fallback has its own name)


def test_a_document_cannot_fetch_from_another_machine():
    with pytest.raises(RefusedFetch):
        render_pdf('<img src="http://127.0.0.1:9/logo.png">')


def test_pdftotext_is_installed():
    assert shutil.which("pdftotext"), "scripts/test.sh installs poppler-utils"
