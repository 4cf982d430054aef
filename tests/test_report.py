"""Report content: labels, suppression before publication, and numbers equal to the results."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines import render, report
from pipelines.codebook import load_codebook
from pipelines.config import load_config
from pipelines.i18n import fmt_number, fmt_percent, t
from pipelines.paths import SAMPLE_CONFIG
from pipelines.plan import build_plan

CFG = load_config(SAMPLE_CONFIG, check_files=False)
CB = load_codebook("tpbis")


def _row(analysis, outcome, est, n, group_var=None, group=None, wave="2026", term="mean"):
    return {
        "analysis": analysis,
        "outcome": outcome,
        "wave": wave,
        "group_var": group_var,
        "group": group,
        "term": term,
        "estimate": est,
        "se": 0.05,
        "ci_low": est - 0.1,
        "ci_high": est + 0.1,
        "df": 12,
        "p": None,
        "p_adj": None,
        "n": n,
        "method": "test",
        "flag": "",
        "note": "",
    }


@pytest.fixture
def results():
    rows = []
    for o, city, kota, small in (
        ("skills", 3.61, 3.9, 3.0),
        ("confidence", 3.8, 4.1, 2.0),
        ("social", 3.7, 3.2, 4.0),
    ):
        rows += [
            _row("descriptive", o, city, 1900),
            _row("site", o, kota, 60, "site", "kota"),
            _row("site", o, small, 4, "site", "laing"),
        ]
    for o, city, kota in (("participated", 0.41, 0.55), ("business", 0.2, 0.25)):
        rows += [
            _row("descriptive", o, city, 1900, term="proportion"),
            _row("site", o, kota, 60, "site", "kota", term="proportion"),
            _row("site", o, 0.5, 4, "site", "laing", term="proportion"),
        ]
    plan = build_plan(CB, CFG, {v.name for v in CB.variables} | {"respondent_key"})
    return {
        "estimates": pd.DataFrame(rows),
        "outcomes": plan.outcome_table(),
        "roles": plan.roles_table(),
        "plan": plan.table(),
    }


def test_labels_in_both_languages():
    id_, en = report.Labels(CFG, CB, "id"), report.Labels(CFG, CB, "en")
    assert id_.group("gender", "female") == "Perempuan" and en.group("gender", "female") == "Female"
    assert en.group("disability", 1.0) == "Disability: yes"
    assert id_.group("disability", "0") == "Disabilitas: tidak"
    assert id_.group("site", "laing") == "Perpustakaan Kelurahan Laing"
    assert en.outcome("skills") == "Digital and work skills"
    assert id_.outcome("business") == "Memulai atau mengembangkan usaha"
    assert en.wave("2026") == "Wave 2 (March 2026)"


def test_publishable_blanks_small_groups_only():
    df = pd.DataFrame([_row("x", "skills", 3.0, 9), _row("x", "skills", 3.0, 10)])
    out = report.publishable(df, 10)
    assert out["suppressed"].tolist() == [True, False]
    assert pd.isna(out.loc[0, "estimate"]) and pd.isna(out.loc[0, "ci_low"])
    assert out.loc[1, "estimate"] == 3.0


@pytest.mark.parametrize("lang", ["id", "en"])
def test_site_report_compares_with_the_city_using_the_results(results, lang):
    doc = report.site_document(results, CFG, CB, "kota", lang)
    table = next(b for b in doc.sections[0].blocks if isinstance(b, render.Table)).frame
    assert doc.lang == lang and doc.title == "Perpustakaan Umum Kota Solok"
    cells = table.to_numpy().ravel().tolist()
    assert any(c.startswith(fmt_number(3.9, lang, 2)) for c in cells)  # the site's own value
    assert any(c.startswith(fmt_number(3.61, lang, 2)) for c in cells)  # the city beside it
    assert any(c.startswith(fmt_percent(0.55, lang)) for c in cells)
    note = next(b for b in doc.sections[0].blocks if isinstance(b, render.Table)).note
    assert ("differences between libraries" in note) == (lang == "en")


def test_a_site_below_the_threshold_shows_no_numbers(results):
    doc = report.site_document(results, CFG, CB, "laing", "id")
    blocks = doc.sections[0].blocks
    assert not any(isinstance(b, render.Table | render.Figure) for b in blocks)
    html = render.render_html(doc)
    assert "kurang dari 10" in html
    for value in ("3,00", "2,00", "4,00", "50,0%"):
        assert value not in html


def test_site_pdf_has_its_heading_in_the_report_language(results, tmp_path):
    from pypdf import PdfReader

    doc = report.site_document(results, CFG, CB, "kota", "en")
    path = render.write_pdf(doc, tmp_path / "kota.en.pdf")
    text = " ".join(p.extract_text() for p in PdfReader(path).pages)
    assert "Perpustakaan Umum Kota Solok" in text and "This library" in text
    assert fmt_number(3.9, "en", 2) in text


def test_a_single_small_library_cannot_be_recovered_from_the_total(results):
    sizes = report.site_sizes(results["estimates"], "2026", 10)
    assert sizes.loc["laing", "suppression"] == "primary"
    assert sizes.loc["kota", "suppression"] == "secondary"  # the only other library
    doc = report.site_document(results, CFG, CB, "kota", "en")
    table = next(b for b in doc.sections[0].blocks if isinstance(b, render.Table)).frame
    assert set(table["n"]) == {"suppressed"}
    assert "60 respondents" not in render.render_html(doc)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_site_report_of_synthetic_data_says_so_and_its_chart_is_on_the_scale(results, lang):
    assert CFG.survey.synthetic  # the bundled sample
    doc = report.site_document(results, CFG, CB, "kota", lang)
    assert doc.notice == report.synthetic_notice(CFG, lang) and doc.notice
    real = CFG.model_copy(update={"survey": CFG.survey.model_copy(update={"synthetic": False})})
    assert report.site_document(results, real, CB, "kota", lang).notice == ""
    fig = next(b for b in doc.sections[0].blocks if isinstance(b, render.Figure))
    assert fig.ticks[0] == "1" and fig.ticks[-1] == "5"  # the 1–5 scale, not cut to the data
    assert fig.title and fig.caption
    here, town = t("site.this_site", lang), t("site.city", lang)
    assert f">{here}<" in fig.svg and f">{town}<" in fig.svg  # legend: two kinds of mark
