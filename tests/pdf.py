"""Reading PDFs back as text, with poppler's pdftotext and pdfinfo."""

import subprocess


def pdf_text(data: bytes, *pages: int) -> str:
    args = ["pdftotext", "-layout"]
    if pages:
        args += ["-f", str(pages[0]), "-l", str(pages[-1])]
    return subprocess.run(
        [*args, "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def pdf_pages(data: bytes) -> int:
    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True)
    return next(
        int(row.split()[1]) for row in info.stdout.decode().splitlines() if row.startswith("Pages:")
    )
