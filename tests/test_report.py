"""Report content: labels, suppression before publication, and numbers equal to the results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines import render, report
from pipelines.codebook import load_codebook
from pipelines.config import load_config
from pipelines.errors import RunError
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


def test_site_pdf_has_its_heading_in_the_report_language(results):
    from io import BytesIO

    from pypdf import PdfReader

    doc = report.site_document(results, CFG, CB, "kota", "en")
    text = " ".join(p.extract_text() for p in PdfReader(BytesIO(render.render_pdf(doc))).pages)
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


# --- issue 13: content of a publication ---------------------------------------------------------


def _effect(outcome, est, lo, hi, p_adj, n=1900, wave="2026"):
    r = _row("effect", outcome, est, n, wave=wave, term="participated")
    return r | {"ci_low": lo, "ci_high": hi, "p": p_adj, "p_adj": p_adj, "se": (hi - lo) / 3.92}


@pytest.fixture
def two_waves(results):
    """The results fixture with a first wave for every library row and reader-scale effects."""
    est = results["estimates"]
    first = est.assign(wave="2025", estimate=est["estimate"] - 0.2)
    effects = pd.DataFrame(
        [
            _effect("skills", 0.44, 0.40, 0.47, 0.001),
            _effect("business", 2.6, -2.4, 7.7, 0.34),
        ]
    )
    return results | {"estimates": pd.concat([first, est, effects], ignore_index=True)}


@pytest.mark.parametrize("lang", ["id", "en"])
def test_site_report_has_both_waves_and_the_change(two_waves, lang):
    doc = report.site_document(two_waves, CFG, CB, "kota", lang)
    change = next(s for s in doc.sections if s.heading == report.t("site.change_heading", lang))
    table = next(b for b in change.blocks if isinstance(b, render.Table)).frame
    assert {"Gelombang 1 (Maret 2025)", "Gelombang 2 (Maret 2026)"} <= set(table.columns) or {
        "Wave 1 (March 2025)",
        "Wave 2 (March 2026)",
    } <= set(table.columns)
    skills = table.iloc[0].tolist()
    assert skills[1].startswith(fmt_number(3.7, lang, 2))  # 2025: 3.9 - 0.2
    assert skills[2].startswith(fmt_number(3.9, lang, 2))
    assert skills[3].startswith("+" + fmt_number(0.2, lang, 2))  # the change between them


def test_suppressed_counts_never_leave_a_broken_sentence(two_waves):
    for lang, marker in (("id", "disembunyikan"), ("en", "suppressed")):
        doc = report.site_document(two_waves, CFG, CB, "kota", lang)  # n hidden (secondary)
        paragraphs = [b for s in doc.sections for b in s.blocks if isinstance(b, str)]
        assert paragraphs and not any(marker in p for p in paragraphs), paragraphs
        assert "Perpustakaan Umum Kota Solok" in paragraphs[0]


def test_small_libraries_carry_a_precision_warning(two_waves):
    est = two_waves["estimates"].copy()
    est.loc[est["group"].eq("kota"), "n"] = 20  # above the threshold, below 30
    doc = report.site_document(two_waves | {"estimates": est}, CFG, CB, "kota", "id")
    table = next(b for b in doc.sections[0].blocks if isinstance(b, render.Table)).frame
    assert table["Ketepatan"].str.startswith("kurang tepat").all()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_cover_glossary_and_next_steps_in_both_languages(two_waves, lang):
    lab = report.Labels(CFG, CB, lang, two_waves["outcomes"])
    import html

    cover = html.unescape(
        render.render_html(
            render.Document("x", "", lang, [report.cover(CFG, lab), report.glossary(CFG, lab)])
        )
    )
    assert CFG.report.institution(lang) in cover and CFG.report.contact in cover
    assert CFG.report.citation(lang) in cover
    for key in ("odds_ratio", "p", "design_effect", "weighting", "alpha", "tpbis", "iplm", "tkm"):
        assert report.t(f"glossary.{key}.term", lang) in cover
    steps = report.next_steps(two_waves, CFG, lab)
    items = next(b for b in steps.blocks if isinstance(b, list))
    text = " ".join(items)
    skills = report.lower_first(lab.outcome("skills"))
    assert report.t("next.continue", lang, outcomes=skills) in items  # clear positive
    assert lab.outcome("business") in text  # unclear: collect more data
    assert not any(lab.outcome("business").lower() in i.lower() for i in items[:1])


def test_summary_chart_and_sentences_share_one_source(two_waves):
    lab = report.Labels(CFG, CB, "en", two_waves["outcomes"])
    sentences = report.summary_findings(two_waves, CFG, lab)
    figs = report.summary_charts(two_waves, CFG, lab)
    assert len(figs) == 2  # points and percentage points
    assert fmt_number(0.44, "en", 2) in figs[0].alt and fmt_number(0.44, "en", 2) in sentences[0]
    assert fmt_number(7.7, "en", 1) in figs[1].alt and fmt_number(7.7, "en", 1) in " ".join(
        sentences
    )


def test_without_a_comparison_group_findings_are_descriptive(two_waves):
    """A plan with no took_part role (another instrument): no participant sentences, levels."""
    roles = two_waves["roles"]
    res = two_waves | {
        "roles": roles[roles["role"] != "took_part"],
        "estimates": two_waves["estimates"].query("analysis != 'effect'"),
    }
    for lang in ("id", "en"):
        lab = report.Labels(CFG, CB, lang, res["outcomes"])
        found = report.summary_findings(res, CFG, lab)
        assert found and all("participants" not in s and "peserta" not in s for s in found)
        assert any(fmt_number(3.61, lang, 2) in s for s in found)
        items = next(b for b in report.next_steps(res, CFG, lab).blocks if isinstance(b, list))
        assert items[0] == report.t("next.no_comparison", lang)
        doc = report.site_document(res, CFG, CB, "kota", lang)
        heading = report.t("site.participants_heading", lang)
        assert all(s.heading != heading for s in doc.sections)


def test_workbook_holds_every_published_table_with_suppressed_cells_blank(two_waves):
    from io import BytesIO

    from openpyxl import load_workbook

    doc = report.site_document(two_waves, CFG, CB, "kota", "id")
    evil = render.Table(
        pd.DataFrame(
            {
                "a": ["=HYPERLINK(1)", "disembunyikan (n < 10)", "+0,45", "https://x.id", "0012"],
                "b": [3, 2.5, np.nan, np.inf, True],
            }
        )
    )
    doc = render.Document(
        doc.title, doc.subtitle, "id", [*doc.sections, render.Section("x", [evil])]
    )
    wb = load_workbook(BytesIO(report.workbook(doc, CFG)))
    tables = report.published_tables(doc)
    assert wb.sheetnames[1:] == [label for label, _ in tables]
    first = [r for r in wb[tables[0][0]].iter_rows(values_only=True)]
    assert list(first[1][:2]) == list(tables[0][1].frame.columns[:2])
    sheet = wb[tables[-1][0]]
    cells = [r[:2] for r in sheet.iter_rows(values_only=True)][2:7]
    assert cells == [  # formula guarded, suppressed blank, text stays text, numbers numbers
        ("'=HYPERLINK(1)", 3),
        (None, 2.5),
        ("+0,45", None),
        ("https://x.id", None),
        ("0012", True),
    ]
    assert not any(c.hyperlink for row in sheet.iter_rows() for c in row)


def test_landing_page_groups_libraries_by_kecamatan(two_waves):
    import re

    for lang in ("id", "en"):
        html = report.index_html(CFG, lang, two_waves, CB)
        assert report.t("index.headline", lang) in html
        assert fmt_number(0.44, lang, 2) in html  # the headline effect
        for kec in CFG.places.kecamatan:
            part = html.split(report.t("index.kecamatan", lang, name=kec))[1].split("<h2")[0]
            ids = set(re.findall(r'href="sites/([a-z0-9-]+)\.', part))
            assert ids == {s.id for s in CFG.sites if s.kecamatan == kec}
    assert [report.index_name(CFG, lang) for lang in ("id", "en")] == [
        "index.html",
        "index.en.html",
    ]


def test_labels_never_nest_parentheses_and_the_glossary_doc_matches_the_locale():
    from pathlib import Path

    assert report.with_range("Kepercayaan diri", "1–5") == "Kepercayaan diri (1–5)"
    assert report.with_range("Peran (empat peran TPBIS)", "1–5") == "Peran (empat peran TPBIS), 1–5"
    doc = (Path(__file__).resolve().parents[1] / "docs" / "glossary.md").read_text()
    for lang in ("id", "en"):
        for key in report.GLOSSARY:
            assert report.t(f"glossary.{key}.term", lang) in doc, (lang, key)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_gap_sentences_are_on_the_readers_scale(lang):
    """A gap on a scale is said in points on its range; on a yes/no outcome (a logistic
    model) as the ratio of odds ratios, never as a bare log-odds number."""
    plan = build_plan(CB, CFG, {v.name for v in CB.variables} | {"respondent_key"})
    lab = report.Labels(CFG, CB, lang, plan.outcome_table())
    row = pd.Series(
        {"outcome": "skills", "group_var": "disability", "group": "1", "estimate": -0.4}
        | {"ci_low": -0.6, "ci_high": -0.2, "p_adj": 0.0004}
    )
    text = report._gap_sentence(row, lab)
    assert fmt_number(-0.4, lang, 2) in text and "1–5" in text
    assert "< " + fmt_number(0.001, lang, 3) in text
    yn = row.copy()
    yn["outcome"], yn["estimate"], yn["ci_low"], yn["ci_high"] = "business", -0.8, -1.4, -0.2
    text = report._gap_sentence(yn, lab)
    assert fmt_number(float(np.exp(-0.8)), lang, 2) in text  # odds ratio ratio, not -0.80
    assert fmt_number(-0.8, lang, 2) not in text


def test_at_national_scale_the_library_table_moves_to_the_workbook(two_waves, monkeypatch):
    """A side-by-side table of thousands of libraries is no page of a report: above the cap
    the report says where the table is, and the workbook carries it."""
    from io import BytesIO

    from openpyxl import load_workbook

    lab = report.Labels(CFG, CB, "en", report.outcomes_of(two_waves))
    shown = report.libraries_table(two_waves, CFG, lab)
    assert any(isinstance(b, render.Table) for b in shown.blocks)
    monkeypatch.setattr(report, "MAX_LIBRARIES_SHOWN", 2)
    capped = report.libraries_table(two_waves, CFG, lab)
    assert not any(isinstance(b, render.Table) for b in capped.blocks)
    assert "tables.xlsx" in capped.blocks[0] and str(len(CFG.sites)) in capped.blocks[0]
    doc = render.Document("t", "s", "en", [capped])
    wb = load_workbook(BytesIO(report.workbook(doc, CFG, two_waves, CB)))
    sheet = wb[t("section.libraries", "en")[:31]]
    names = [r[0] for r in sheet.iter_rows(values_only=True)][1:]
    assert "Perpustakaan Umum Kota Solok" in names


def test_site_files_are_the_rendered_site_document_in_every_language_and_format(results):
    html = CFG.model_copy(update={"report": CFG.report.model_copy(update={"formats": ["html"]})})
    files = report.site_files(results, html, CB, "kota")
    assert list(files) == [f"kota.{lang}.html" for lang in CFG.report.languages]
    for lang in CFG.report.languages:
        assert files[f"kota.{lang}.html"] == render.render_html(
            report.site_document(results, html, CB, "kota", lang)
        )
    with pytest.raises(RunError, match="Site 'nowhere' is not in the config's sites"):
        report.site_files(results, CFG, CB, "nowhere")


def test_city_files_name_each_language_s_report_workbook_and_landing_page(two_waves, monkeypatch):
    """What the report stage writes, by name: HTML as text, PDF and the workbook as bytes."""
    from io import BytesIO

    from openpyxl import load_workbook

    def small_city(res, quality, cfg, cb, lang):  # the city document's content is tested above
        return report.site_document(res, cfg, cb, "kota", lang)

    monkeypatch.setattr(report, "city_document", small_city)
    files = report.city_files(two_waves, {}, CFG, CB)
    want = []
    for lang in CFG.report.languages:
        want += [f"city.{lang}.{fmt}" for fmt in CFG.report.formats]
        want += [report.workbook_name(CFG, lang), report.index_name(CFG, lang)]
    assert list(files) == want
    assert files["city.en.html"] == render.render_html(small_city(two_waves, {}, CFG, CB, "en"))
    assert files["city.id.pdf"].startswith(b"%PDF")
    assert files["index.en.html"] == report.index_html(CFG, "en", two_waves, CB)
    wb = load_workbook(BytesIO(files["tables.xlsx"]))
    assert wb.sheetnames[0] == t("workbook.about_sheet", "id")[:31]


@pytest.mark.parametrize("cpus", [1, 2])
def test_city_files_are_the_same_built_in_one_process_or_with_forked_workers(
    two_waves, monkeypatch, cpus
):
    """The languages after the first are built in a forked worker when a second CPU is there;
    the files are the same either way, and the first language's document comes back."""
    import os
    import sys

    def small_city(res, quality, cfg, cb, lang):
        return report.site_document(res, cfg, cb, "kota", lang)

    monkeypatch.setattr(report, "city_document", small_city)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cpus)), raising=False)
    forked = cpus > 1 and sys.platform == "linux"
    assert report._fork_workers(len(CFG.report.languages)) == int(forked)
    built = {}
    files = report.city_files(two_waves, {}, CFG, CB, built)
    first = CFG.report.languages[0]
    assert list(built) == ([first] if forked else CFG.report.languages)
    assert files["city.en.html"] == render.render_html(small_city(two_waves, {}, CFG, CB, "en"))
    assert files[f"city.{first}.html"] == render.render_html(built[first])
    assert list(files) == [
        name
        for lang in CFG.report.languages
        for name in (
            *[f"city.{lang}.{fmt}" for fmt in CFG.report.formats],
            report.workbook_name(CFG, lang),
            report.index_name(CFG, lang),
        )
    ]


def test_an_error_in_a_forked_language_is_raised_here(two_waves, monkeypatch):
    import os

    from pipelines.errors import RunError

    def failing(res, quality, cfg, cb, lang):
        if lang != CFG.report.languages[0]:
            raise RunError("no document in this language")
        return report.site_document(res, cfg, cb, "kota", lang)

    monkeypatch.setattr(report, "city_document", failing)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    with pytest.raises(RunError, match="no document in this language"):
        report.city_files(two_waves, {}, CFG, CB)


def test_a_forked_language_that_does_not_answer_is_built_here(two_waves, monkeypatch):
    import os
    import time

    here = os.getpid()

    def small_city(res, quality, cfg, cb, lang):
        if os.getpid() != here:  # the forked worker hangs
            time.sleep(30)
        return report.site_document(res, cfg, cb, "kota", lang)

    monkeypatch.setattr(report, "city_document", small_city)
    monkeypatch.setattr(report, "FORK_WAIT_SECONDS", 0.5)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    started = time.monotonic()
    files = report.city_files(two_waves, {}, CFG, CB)
    assert time.monotonic() - started < 20  # the stuck worker was terminated, not awaited
    assert files["city.en.html"] == render.render_html(small_city(two_waves, {}, CFG, CB, "en"))


def test_pick_compares_as_text_and_matches_missing():
    est = pd.DataFrame(
        {
            "analysis": pd.array(["site", "site", "descriptive", None], dtype="str"),
            "wave": pd.array(["2025", "2026", "2026", "2026"], dtype="str"),
            "group": ["a", None, "b", "a"],
            "n": [1, 2, 3, 4],
        }
    )
    assert list(report.pick(est, analysis="site", wave="2026")["n"]) == [2]
    assert list(report.pick(est, wave=2026)["n"]) == [2, 3, 4]  # a number matches its text
    assert list(report.pick(est, group=None)["n"]) == [2]
    assert list(report.pick(est, analysis=None)["n"]) == [4]
    assert list(report.pick(est, group="a", analysis="site")["n"]) == [1]
    assert list(report.pick(est, n=3)["n"]) == [3]
    assert report.pick(est, analysis="nothing").empty


def test_roles_follow_each_results_table():
    first = {"roles": pd.DataFrame({"role": ["took_part", "covariate"], "column": ["ikut", "age"]})}
    second = {"roles": pd.DataFrame({"role": ["covariate"], "column": ["umur"]})}
    assert report.roles(first, "took_part") == ["ikut"]
    assert report.roles(second, "took_part") == []
    assert report.roles(second, "covariate") == ["umur"]
    assert report.roles(first, "covariate") == ["age"]
    assert report.roles({}, "covariate") == []


def _weighted(res: dict, method: str = "rake") -> dict:
    weights = pd.DataFrame(
        {"wave": ["2026"], "method": [method], "margins_used": ["gender"], "n": [1900]}
        | {"effective_n": [1500.0], "kish_deff": [1.27]}
    )
    return res | {"weights": weights}


def _descriptive_only(res: dict) -> dict:
    """What a questionnaire without a participation question, weights or second wave yields."""
    est = res["estimates"]
    return _weighted(res | {"estimates": est[est["analysis"] == "descriptive"]}, "none")


def _no_design(cfg):
    from pipelines.config import Weights

    design = cfg.design.model_copy(
        update={"strata": None, "cluster": None, "weights": Weights(method="none")}
    )
    return cfg.model_copy(update={"design": design})


def _text(section) -> str:
    out = []
    for b in section.blocks:
        out += b if isinstance(b, list) else [b.text if isinstance(b, render.Callout) else str(b)]
    return " ".join(out)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_methods_and_glossary_speak_only_of_the_design_and_analyses_this_survey_has(
    two_waves, lang
):
    """Issue 11: no sentence assumes a cluster, a participation question or raking the survey
    does not have; the bundled design is described with its own columns."""
    two_waves = _weighted(two_waves)
    lab = report.Labels(CFG, CB, lang, report.outcomes_of(two_waves))
    full = _text(report.methods(two_waves, CFG, lab))
    cluster, strata = t("group.site", lang).lower(), lab.variable("kecamatan").lower()
    assert t("methods.design_cluster_strata", lang, cluster=cluster, strata=strata) in full
    assert t("methods.effects", lang) in full and t("methods.mde", lang) in full

    res, cfg = _descriptive_only(two_waves), _no_design(CFG)
    lab = report.Labels(cfg, CB, lang, report.outcomes_of(res))
    text = _text(report.methods(res, cfg, lab))
    assert t("methods.design_none", lang) in text
    assert t("methods.design_se", lang) in text
    for key in ("effects", "mde", "limits_causal", "design_gaps", "precision_gaps"):
        assert t(f"methods.{key}", lang) not in text, key
    assert t("methods.next_steps", lang, ratio=report.NEED_MAX_RATIO) not in text
    assert t("methods.weighting_none", lang) in text
    terms = [term for term, _ in report.glossary_terms(cfg, lang, res)]
    for key in ("gap", "did", "associated", "percentage_points", "weighting", "odds_ratio"):
        assert t(f"glossary.{key}.term", lang) not in terms, key
    assert t("glossary.alpha.term", lang) not in terms  # no reliability table in ``res``
    rel = pd.DataFrame({"scale": ["skills"], "alpha": [0.8], "reliable": [True]})
    terms = [term for term, _ in report.glossary_terms(cfg, lang, res | {"reliability": rel})]
    assert t("glossary.alpha.term", lang) in terms
    everything = [term for term, _ in report.glossary_terms(CFG, lang, two_waves)]
    assert t("glossary.gap.term", lang) not in everything  # no inclusion rows in the fixture
    assert t("glossary.percentage_points.term", lang) in everything


@pytest.mark.parametrize("lang", ["id", "en"])
def test_an_unweighted_survey_is_not_said_to_be_weighted(two_waves, lang):
    """The sample's make-up without weights: no weighted or population column, no sentence on
    raking; groups are described as unweighted; no causal caution without a comparison."""
    res, cfg = _descriptive_only(two_waves), _no_design(CFG)
    lab = report.Labels(cfg, CB, lang, report.outcomes_of(res))
    res = res | {
        "representativeness": pd.DataFrame(
            {
                "wave": ["2026", "2026"],
                "variable": ["gender", "gender"],
                "level": ["female", "male"],
                "sample_share": [0.6, 0.4],
                "weighted_share": [0.6, 0.4],
                "population_share": [np.nan, np.nan],
            }
        )
    }
    who = report.who_was_surveyed(res, cfg, lab)
    assert t("who.match_intro_none", lang) in who.blocks
    assert t("who.match_intro", lang) not in who.blocks
    match = [b for b in who.blocks if isinstance(b, render.Table)][-1].frame
    assert t("who.sample_share", lang) in match.columns
    assert not {t("who.weighted_share", lang), t("who.population_share", lang)} & set(match)
    steps = report.next_steps(res, cfg, lab)
    assert not any(isinstance(b, render.Callout) for b in steps.blocks)
    steps = report.next_steps(_weighted(two_waves), CFG, lab)
    assert any(isinstance(b, render.Callout) for b in steps.blocks)


def test_data_quality_shows_reliability_only_for_a_form_with_scales(two_waves):
    """A form without scales gets no empty reliability table; one with a scale gets its row."""
    lab = report.Labels(CFG, CB, "en", report.outcomes_of(two_waves))
    one = {"rows_in": 10, "rows_out": 9, "removed": {}, "flagged": {}}
    quality = {w.id: one for w in CFG.waves}
    cols = ["wave", "scale", "n", "alpha", "alpha_ci_low", "alpha_ci_high", "omega", "reliable"]
    empty = pd.DataFrame(columns=cols)
    caption = t("quality.reliability_caption", "en")

    def captions(rel):
        section = report.data_quality(two_waves | {"reliability": rel}, CFG, lab, quality)
        return [b.caption for b in section.blocks if isinstance(b, render.Table)]

    assert caption not in captions(empty)
    row = pd.DataFrame([["2026", "skills", 900, 0.8, 0.78, 0.82, 0.81, True]], columns=cols)
    assert caption in captions(row)
