"""Every kind of report page in a real headless Chromium, at a phone's and a desktop's width.

One small generated survey (300 respondents per wave) goes through ingest, cleaning and
analysis in-process; its city report (both languages), two library reports and the index are
written as HTML and opened in one browser. At 390 and 1280 px: the page never scrolls sideways,
no table hides columns in a scroll box, no text in a figure is drawn under 12 px (at 390 px) and
axe-core finds no serious or critical accessibility violation.

Needs Debian's ``chromium`` (``apt-get install -y chromium``; never a downloaded browser) and
the dev extras (``playwright``, ``axe-playwright-python``); skipped, saying which is missing,
without them.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest
from helpers import write_config

from pipelines import render, report, simulate, steps

CHROMIUM = os.environ.get("DAMPAK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTHS = (390, 1280)
MIN_FIGURE_TEXT_PX = 12.0

_missing = [m for m in ("playwright", "axe_playwright_python") if not importlib.util.find_spec(m)]
pytestmark = [
    pytest.mark.skipif(
        bool(_missing),
        reason=f"browser tests skipped: {', '.join(_missing)} not installed "
        "(pip install -e '.[dev]')",
    ),
    pytest.mark.skipif(
        not Path(CHROMIUM).is_file(),
        reason=f"browser tests skipped: Chromium not found at {CHROMIUM} "
        "(apt-get install -y chromium)",
    ),
]

# what one page measures in the browser: page width, scroll boxes, each figure text's size in px
MEASURE = """() => {
  const texts = [];
  for (const el of document.querySelectorAll('svg text')) {
    const box = el.getBoundingClientRect();
    if (!box.width || !el.textContent.trim()) continue;
    const m = el.getScreenCTM();
    const size = parseFloat(getComputedStyle(el).fontSize) * Math.hypot(m.a, m.b);
    texts.push([size, el.textContent]);
  }
  const boxes = [...document.querySelectorAll('.table-wrap')]
    .filter(w => w.scrollWidth > w.clientWidth + 1).length;
  return {
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
    texts: texts,
    scrollBoxes: boxes,
    figures: document.querySelectorAll('figure svg').length,
    notice: (document.querySelector('aside.notice') || {}).textContent || '',
  };
}"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> list[Path]:
    """The HTML pages of a small synthetic survey's reports: city (id, en), index, 2 sites."""
    folder = tmp_path_factory.mktemp("browser")
    simulate.write(simulate.simulate(n_per_wave=300, seed=11), folder, formats=("csv",))
    cfg, cb, out = steps.load(
        str(write_config(folder)), str(folder / "processed"), str(folder / "reports")
    )
    steps.run_ingest(cfg, cb, out)
    steps.run_clean(cfg, cb, out)
    steps.run_analyse(cfg, cb, out)
    res, quality = steps.load_results(out), steps.load_quality(out)
    pages = {}
    for lang in ("id", "en"):
        doc = report.city_document(res, quality, cfg, cb, lang)
        pages[f"city.{lang}.html"] = render.render_html(doc)
    for site, lang in zip(cfg.site_ids[:2], ("id", "en"), strict=True):
        doc = report.site_document(res, cfg, cb, site, lang)
        pages[f"sites/{site}.{lang}.html"] = render.render_html(doc)
    pages["index.html"] = report.index_html(cfg)
    return steps.write_files(out.reports, pages)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_pages_fit_read_and_pass_axe(pages, browser, width):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    problems, figures = [], 0
    try:
        for path in pages:
            page.goto(path.resolve().as_uri())
            m = page.evaluate(MEASURE)
            name = f"{path.name} at {width} px"
            figures += m["figures"]
            if m["scrollWidth"] > m["clientWidth"]:
                problems.append(f"{name}: page is {m['scrollWidth']} px wide (scrolls sideways)")
            if m["scrollBoxes"]:
                problems.append(f"{name}: {m['scrollBoxes']} table(s) hide columns in a scroll box")
            small = [(round(s, 1), txt) for s, txt in m["texts"] if s < MIN_FIGURE_TEXT_PX]
            if width == 390 and small:
                problems.append(f"{name}: figure text under 12 px: {small[:5]}")
            if "SINTETIS" not in m["notice"] and "SYNTHETIC" not in m["notice"]:
                problems.append(f"{name}: no synthetic-data notice")
            violations = axe.run(page).response["violations"]
            for v in violations:
                if v["impact"] in ("serious", "critical"):
                    problems.append(f"{name}: axe {v['impact']} {v['id']} ({len(v['nodes'])}x)")
    finally:
        context.close()
    assert figures >= 8  # the pages really had charts to measure
    assert not problems, "\n".join(problems)
