"""LibreOffice helpers: render a .docx or .xlsx to PDF headless, and read the PDF back.

Debian's ``libreoffice-writer-nogui`` and ``libreoffice-calc`` give ``soffice``; poppler-utils
gives ``pdfinfo``, ``pdftotext`` and ``pdftoppm``.  Where they are missing, the tests that
render fail in CI (``CI`` set) and skip with a clear message elsewhere (``.ci/run`` installs
them).  Each render runs with its own LibreOffice profile, so concurrent runs never wait on one
another, and under a timeout.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from tests.conftest import _need

#: Seconds a render may take (a cold LibreOffice start on a loaded 2-core machine included).
RENDER_TIMEOUT = 240
TOOLS = ("soffice", "pdfinfo", "pdftotext")


def need_office() -> None:
    """Fail in CI, skip elsewhere, when LibreOffice or poppler-utils is not installed."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        _need(f"{', '.join(missing)} not installed (apt-get install libreoffice-writer-nogui "
              "libreoffice-calc poppler-utils)")


@dataclass
class Pdf:
    """A rendered PDF: its path, its page size in points and each page's text."""

    path: str
    width: float
    height: float
    pages: list[str]

    @property
    def is_a4(self) -> bool:
        """Whether the pages are A4 (either way round), to a point."""
        size = sorted((self.width, self.height))
        return abs(size[0] - 595.28) < 1 and abs(size[1] - 841.89) < 1


def render_pdf(data: bytes, name: str, outdir: str) -> Pdf:
    """``data`` (a .docx or .xlsx named ``name``) rendered to PDF by LibreOffice in ``outdir``."""
    need_office()
    source = os.path.join(outdir, name)
    with open(source, "wb") as fh:
        fh.write(data)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        result = subprocess.run(
            ["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{profile}",
             "--convert-to", "pdf", "--outdir", outdir, source],
            capture_output=True, text=True, timeout=RENDER_TIMEOUT,
            env={**os.environ, "HOME": profile},
        )
    pdf = os.path.splitext(source)[0] + ".pdf"
    assert result.returncode == 0 and os.path.exists(pdf), (result.stdout, result.stderr)
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info)
    assert size is not None, info
    count = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    pages = []
    for page in range(1, count + 1):
        pages.append(subprocess.run(
            ["pdftotext", "-layout", "-f", str(page), "-l", str(page), pdf, "-"],
            capture_output=True, text=True, check=True).stdout)
    return Pdf(pdf, float(size.group(1)), float(size.group(2)), pages)


def page_sizes(pdf: Pdf) -> list[tuple[float, float]]:
    """The size of every page in points (pdfinfo -f 1 -l N)."""
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", str(len(pdf.pages)), pdf.path],
                          capture_output=True, text=True, check=True).stdout
    return [(float(w), float(h))
            for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)]
