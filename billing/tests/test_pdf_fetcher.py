"""The PDF fetcher is the only door (issue 15): WeasyPrint reads the document's own static
files and uploads, and data: URLs; never a file: URL, another host, or a path it was not
given."""

import base64
import shutil
import subprocess
import urllib.parse

import pytest
from PIL import Image

from billing import pdf
from tests.factories import issued

pytestmark = pytest.mark.django_db

needs_poppler = pytest.mark.skipif(shutil.which("pdfimages") is None, reason="needs poppler")


def images_in(data: bytes, tmp_path) -> int:
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    listing = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, check=True)
    return len(listing.stdout.decode().splitlines()) - 2  # two header rows


def nested_svg(href: str) -> str:
    inner = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
        f'<image href="{href}" width="40" height="40"/></svg>'
    )
    outer = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
        '<image href="data:image/svg+xml;base64,'
        + base64.b64encode(inner.encode()).decode()
        + '" width="40" height="40"/></svg>'
    )
    return "data:image/svg+xml;base64," + base64.b64encode(outer.encode()).decode()


@needs_poppler
def test_a_nested_svg_cannot_make_the_pdf_read_a_file_from_the_disk(tmp_path, business):
    """The probe's reproduction: a host in a file: URL, and a path the fetcher approves as a
    static file, made WeasyPrint embed a file found elsewhere on the disk."""
    secret = tmp_path / "any" / "dir" / "static" / "rest_framework" / "img"
    secret.mkdir(parents=True)
    Image.new("RGB", (30, 30), "#ff0000").save(secret / "grid.png")
    host = urllib.parse.quote(str(tmp_path / "any" / "dir"), safe="")
    href = f"file://{host}/static/rest_framework/img/grid.png"
    html = f'<html><body><img src="{nested_svg(href)}"></body></html>'

    assert images_in(pdf.html_to_pdf(html), tmp_path) == 0


@needs_poppler
def test_a_file_url_to_a_static_path_is_refused_and_the_pdf_still_renders(tmp_path, business):
    html = '<html><body><p>Text</p><img src="file:///static/rest_framework/img/grid.png"></body></html>'

    data = pdf.html_to_pdf(html)

    assert data.startswith(b"%PDF") and images_in(data, tmp_path) == 0


@pytest.mark.parametrize(
    "url",
    [
        "file:///static/otb/invoice.css",
        "file://otb-billing.invalid/static/otb/invoice.css",
        "http://otb-billing.invalid/static/otb/invoice.css",
        "https://example.com/static/otb/invoice.css",
        "ftp://otb-billing.invalid/static/otb/invoice.css",
    ],
)
def test_every_scheme_and_host_but_the_documents_own_is_refused(url):
    with pytest.raises(ValueError, match="Only the document's own files"):
        pdf._document_fetcher().fetch(url)


def test_the_answer_names_no_file_on_the_disk():
    response = pdf._document_fetcher().fetch(pdf.PDF_BASE_URL + "static/otb/invoice.css")

    assert response.url == pdf.PDF_BASE_URL + "static/otb/invoice.css"
    assert not response.url.startswith("file:")


def test_invoice_pdfs_still_render(business):
    assert pdf.invoice_pdf(issued()).startswith(b"%PDF")
