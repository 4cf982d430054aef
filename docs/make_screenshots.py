"""Screenshots of the sample's city report and one library report at a phone's (390 px) and a
desktop's (1280 px) width, for the README: ``make screenshots`` (after ``make report``).

Uses Debian's Chromium through Playwright, like the browser tests (no browser is downloaded).
Each picture is the top of the page plus, for the city report, one chart; PNGs are reduced to
a 64-colour palette so they stay small in the repository.
"""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "reports" / "solok-2026"
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
SITE = "aro-iv-korong"
# (file, name, {width: height of the picture in px})
SHOTS = (
    ("city.id.html", "city", {390: 1700, 1280: 1000}),
    (f"sites/{SITE}.id.html", "library", {390: 2300, 1280: 1500}),
)
CHART = ("city.id.html", "city-chart", "#f5")  # the Likert chart: long labels on a phone


def _save(png: bytes, path: Path) -> None:
    img = Image.open(io.BytesIO(png)).convert("RGB")
    img.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"{path.relative_to(ROOT)}: {img.width}x{img.height}, {path.stat().st_size // 1024} KB")


def main() -> int:
    if not (REPORTS / "city.id.html").is_file():
        print(f"No reports in {REPORTS.relative_to(ROOT)}: run `make report` first.")
        return 1
    if not Path(CHROMIUM).is_file():
        print("Chromium is not installed: apt-get install -y chromium")
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for width in (390, 1280):
            page = browser.new_page(viewport={"width": width, "height": 900})
            for file, name, heights in SHOTS:
                page.goto((REPORTS / file).as_uri())
                full = page.evaluate("document.documentElement.scrollHeight")
                clip = {"x": 0, "y": 0, "width": width, "height": min(heights[width], full)}
                _save(page.screenshot(clip=clip, full_page=True), OUT / f"{name}-{width}.png")
            file, name, selector = CHART
            page.goto((REPORTS / file).as_uri())
            _save(page.locator(selector).screenshot(), OUT / f"{name}-{width}.png")
            page.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
