"""End to end: the real notebooks through Papermill on a small generated survey.

One full run (module fixture) is inspected for what it wrote; further runs check partial stages,
a failing input and that a failed run leaves the previous outputs exactly as they were.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from helpers import write_config

from pipelines import privacy
from pipelines.errors import RunError
from pipelines.runner import Run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(small_survey, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    cfg_path = write_config(small_survey, "csv", survey_id="e2e")
    result = Run(cfg_path, out_root=out, progress=lambda m: None).run()
    return {"result": result, "out": out, "config": cfg_path, "survey": small_survey}


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_processed_data_is_tidy_and_de_identified(run):
    clean = run["result"].layout.processed / "clean"
    for wave in ("2025", "2026"):
        df = pd.read_parquet(clean / f"{wave}.parquet")
        assert len(df) > 250 and df["respondent_key"].is_unique
        assert {"full_name", "phone", "nik", "email", "address"}.isdisjoint(df.columns)
        assert df["skill_1"].dropna().between(1, 5).all()
        csv = pd.read_csv(clean / f"{wave}.csv", dtype=str)
        assert len(csv) == len(df)
    log = pd.read_csv(clean / "cleaning_log.csv")
    truth = json.loads((run["survey"] / "truth.json").read_text())["mess"]
    got = log[log["rule"] == "duplicate_submission"].set_index("wave")["rows_touched"]
    assert got.to_dict() == {
        2025: truth["2025"]["duplicate_rows"],
        2026: truth["2026"]["duplicate_rows"],
    }
    assert (clean / "dictionary.csv").exists() and (clean / "panel.parquet").exists()


def test_results_carry_every_published_column(run):
    est = pd.read_parquet(run["result"].layout.processed / "results" / "estimates.parquet")
    need = ["outcome", "group", "estimate", "se", "ci_low", "ci_high", "p", "p_adj", "n", "method"]
    assert set(need) <= set(est.columns)
    assert est["method"].notna().all() and (est["method"] != "").all()
    assert est["n"].notna().all()
    part = est[(est["analysis"] == "participation") & (est["outcome"] == "skills")]
    assert (part["ci_low"] > 0).all()  # the planted skills effect is found in both waves


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.lang, self.h, self.imgs, self.scripts, self.text = None, [], [], 0, []
        self.charts: list[dict] = []
        self._in_h = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag in ("h1", "h2"):
            self._in_h = True
        if tag == "img":
            self.imgs.append(a)
        if tag == "div" and a.get("role") == "img":
            self.charts.append(a)
        if tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag):
        if tag in ("h1", "h2"):
            self._in_h = False

    def handle_data(self, data):
        self.text.append(data)
        if self._in_h:
            self.h.append(data.strip())


def _page(path: Path) -> _Page:
    p = _Page()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_city_reports_in_both_languages(run):
    rep = run["result"].layout.reports
    id_page, en_page = _page(rep / "city.id.html"), _page(rep / "city.en.html")
    assert id_page.lang == "id" and en_page.lang == "en"
    assert "Ringkasan eksekutif" in id_page.h and "Siapa yang manfaatnya lebih kecil" in id_page.h
    assert "Executive summary" in en_page.h and "Methods appendix" in en_page.h
    for page in (id_page, en_page):
        assert page.scripts == 0
        # charts are inline SVG, each inside a role="img" box that carries the alt text
        assert not page.imgs and page.charts
        assert all(c.get("aria-label", "").strip() for c in page.charts)
    html = (rep / "city.en.html").read_text()
    assert "import " not in html and "def " not in html  # no code in reports
    assert "IDR " in html and " juta" in (rep / "city.id.html").read_text()  # money per locale
    for page in rep.rglob("*.html"):  # self-contained: nothing fetched from elsewhere
        text = page.read_text()
        assert "<link" not in text and "<script" not in text
        assert 'src="http' not in text and "url(http" not in text and "@import" not in text
    assert (rep / "city.id.pdf").read_bytes()[:5] == b"%PDF-"


def test_headline_participation_equals_the_results_table(run):
    from pipelines.i18n import fmt_percent

    est = pd.read_parquet(run["result"].layout.processed / "results" / "estimates.parquet")
    row = est[
        (est["analysis"] == "descriptive")
        & (est["outcome"] == "participated")
        & (est["wave"] == "2026")
        & est["group_var"].isna()
    ].iloc[0]
    text = " ".join(_page(run["result"].layout.reports / "city.id.html").text)
    assert fmt_percent(row["estimate"], "id") in text
    assert fmt_percent(row["ci_low"], "id") in text


@pytest.mark.parametrize("lang", ["id", "en"])
def test_summary_has_every_analysed_outcome_with_the_results_numbers(run, lang):
    """Issue 11/13: each outcome of the plan gets a summary sentence whose effect (on the
    reader's scale: points, percentage points, percent) equals the results table."""
    from pipelines.i18n import fmt_number

    results = run["result"].layout.processed / "results"
    est = pd.read_parquet(results / "estimates.parquet")
    outcomes = pd.read_parquet(results / "outcomes.parquet")
    eff = est[(est["analysis"] == "effect") & (est["wave"] == "2026")].set_index("outcome")
    html = (run["result"].layout.reports / f"city.{lang}.html").read_text()
    import html as html_lib

    from pipelines.i18n import t

    head = html.index(">" + t("section.executive_summary", lang) + "</h2>")
    summary = html_lib.unescape(html[head : html.index("<section", head)])
    assert set(eff.index) == set(outcomes["outcome"])  # every outcome has a reader-scale effect
    for o in outcomes.itertuples():
        r = eff.loc[o.outcome]
        label = o.label_en if lang == "en" else o.label_id
        assert label in summary, label
        dec = 2 if o.unit in ("points", "or") else 1
        assert (
            fmt_number(abs(r.estimate), lang, dec) in summary
            or (fmt_number(r.ci_low, lang, dec) in summary and o.unit == "or")
            or (
                fmt_number(r.ci_low, lang, dec) in summary
                and fmt_number(r.ci_high, lang, dec) in summary
            )
        ), o.outcome
    assert ("1–5" if lang == "en" else "skala 1–5") in summary  # the scale's real range
    assert ("percentage points" if lang == "en" else "poin persentase") in summary
    assert "no difference" not in summary.lower()


def test_publication_parts_beside_the_reports(run):
    """Issue 13: workbook of the published tables, landing page in both languages grouped by
    kecamatan, cover/next steps/glossary in the city report, both waves in library reports."""
    from openpyxl import load_workbook

    from pipelines.i18n import t

    rep = run["result"].layout.reports
    for lang, book, index in (
        ("id", "tables.xlsx", "index.html"),
        ("en", "tables.en.xlsx", "index.en.html"),
    ):
        page = _page(rep / f"city.{lang}.html")
        for key in ("cover", "executive_summary", "next_steps", "libraries", "glossary"):
            assert t(f"section.{key}", lang) in page.h, key
        sheets = load_workbook(rep / book).sheetnames
        assert len(sheets) > 5 and sheets[1] == f"{t('chart.table', lang)} 1"
        html = (rep / index).read_text()
        assert t("index.headline", lang) in html and "Kecamatan" in html
        kota = _page(rep / "sites" / f"kota.{lang}.html")
        assert t("site.change_heading", lang) in kota.h
    for p in (rep / "sites").glob("*.html"):
        text = p.read_text()
        assert "disembunyikan responden" not in text and "suppressed respondents" not in text


def test_a_report_per_site_and_language_and_an_index(run):
    rep = run["result"].layout.reports
    cfg_sites = 14
    assert len(list((rep / "sites").glob("*.html"))) == 2 * cfg_sites
    assert len(list((rep / "sites").glob("*.pdf"))) == 2 * cfg_sites
    index = (rep / "index.html").read_text() + (rep / "index.en.html").read_text()
    for p in (rep / "sites").glob("*.html"):
        assert f"sites/{p.name}" in index
    kota = _page(rep / "sites" / "kota.id.html")
    assert kota.lang == "id" and any("Perpustakaan Umum Kota Solok" in h for h in kota.h)


def test_site_reports_on_a_dask_cluster_equal_the_default_executors(run, tmp_path):
    """The national-round path the README promises: `Run(..., executor=client.get_executor())`
    on a Dask cluster (two worker processes) writes the same site reports as the runner's own
    process pool did in the module's run."""
    import distributed

    done = run["result"].layout
    out = tmp_path / "dask"
    sid = run["result"].survey_id
    shutil.copytree(done.processed, out / "data" / "processed" / sid)  # the analysed data
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.wait_for_workers(2, timeout=120)  # a loaded machine starts them slowly
        dask_run = Run(
            run["config"],
            stages=["report"],
            out_root=out,
            executor=client.get_executor(),
            progress=lambda m: None,
        )
        sites = ["kota", next(s for s in dask_run.cfg.site_ids if s != "kota")]
        dask_run.cfg = dask_run.cfg.model_copy(
            update={"sites": [s for s in dask_run.cfg.sites if s.id in sites]}
        )
        result = dask_run.run()
        worker_pids = set(client.run(os.getpid).values())
    assert len(worker_pids) == 2 and os.getpid() not in worker_pids
    ran = {p.stem for p in (result.layout.reports / "executed" / "sites").glob("*.ipynb")}
    assert ran == set(sites)
    logs = list((result.layout.reports / "executed" / "sites").glob("kernel.worker-*.log"))
    assert logs and {int(p.stem.split("-")[1]) for p in logs} <= worker_pids  # ran there
    written = sorted((result.layout.reports / "sites").glob("*.html"))
    assert [p.name for p in written] == sorted(
        f"{s}.{lg}.html" for s in sites for lg in ("en", "id")
    )
    pages = [(p, done.reports / "sites" / p.name) for p in written] + [
        (result.layout.reports / c, done.reports / c) for c in ("city.id.html", "city.en.html")
    ]
    for dask_page, default_page in pages:
        a, b = dask_page.read_text(encoding="utf-8"), default_page.read_text(encoding="utf-8")
        first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), None)
        where = f"{a[first - 80 : first + 80]!r} vs {b[first - 80 : first + 80]!r}" if first else ""
        assert a == b, f"{dask_page.name} differs: {where}"


def test_executed_notebooks_and_manifest_are_kept_for_audit(run):
    rep = run["result"].layout.reports
    names = {p.name for p in (rep / "executed").glob("*.ipynb")}
    assert {
        "01_ingest.ipynb",
        "02_clean.ipynb",
        "03_analyse.ipynb",
        "04_report_city.ipynb",
    } <= names
    assert len(list((rep / "executed" / "sites").glob("*.ipynb"))) == 14
    m = json.loads((rep / "manifest.json").read_text())
    assert set(m["seconds_per_stage"]) == {"ingest", "clean", "analyse", "report"}
    src = run["survey"] / "solok_2025.csv"
    assert m["inputs_sha256"]["solok_2025.csv"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert m["versions"]["pandas"] == pd.__version__
    assert m["config"]["survey"]["id"] == "e2e"


def test_no_personal_data_anywhere_in_the_outputs(run):
    lay = run["result"].layout
    raw = pd.read_csv(run["survey"] / "solok_2025.csv", dtype=str, keep_default_na=False)
    secret = privacy.load_or_create_secret(privacy.default_secret_path())
    fps = privacy.name_fingerprints(raw["Nama lengkap"], secret)
    assert privacy.scan_paths([lay.processed, lay.reports], fps, secret) == []
    blob = b"".join(p.read_bytes() for p in lay.reports.rglob("*.ipynb"))
    for phone in raw["Nomor HP/WhatsApp"].head(50):
        if phone:
            assert phone.encode() not in blob


def test_raw_files_are_never_written(run):
    before = _digest(run["survey"])
    Run(run["config"], stages=["ingest"], out_root=run["out"], progress=lambda m: None).run()
    assert _digest(run["survey"]) == before


def test_a_failing_run_names_the_problem_and_keeps_the_previous_outputs(run, tmp_path):
    lay = run["result"].layout
    before = _digest(lay.processed), _digest(lay.reports)
    bad = tmp_path / "survey"
    bad.mkdir()
    for f in run["survey"].glob("solok_*.csv"):
        (bad / f.name).write_bytes(f.read_bytes())
    raw = pd.read_csv(bad / "solok_2026.csv", dtype=str, keep_default_na=False)
    raw.drop(columns=["Jenis kelamin"]).to_csv(bad / "solok_2026.csv", index=False)
    cfg = write_config(bad, "csv", survey_id="e2e")
    with pytest.raises(RunError) as e:
        Run(cfg, out_root=run["out"], progress=lambda m: None).run()
    msg = str(e.value)
    lines = msg.splitlines()
    # in the config's language (messages_language: id)
    assert lines[0].startswith("Tahap 'ingest' gagal di notebook 01_ingest.ipynb, sel")
    assert "solok_2026.csv" in lines[1] and "Jenis kelamin" in lines[1]
    assert Path(lines[2].split("Buka ")[1].split(" untuk melihat")[0]).exists()
    assert (_digest(lay.processed), _digest(lay.reports)) == before


def test_command_line_prints_one_sentence_not_a_traceback(tmp_path):
    cfg = tmp_path / "missing.yaml"
    out = subprocess.run(
        [sys.executable, "-m", "pipelines", "run", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert "missing.yaml" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_pdf_reports_say_the_same_as_the_html(run):
    from pypdf import PdfReader

    from pipelines.i18n import fmt_percent

    rep = run["result"].layout.reports
    est = pd.read_parquet(run["result"].layout.processed / "results" / "estimates.parquet")
    part = est[
        (est["analysis"] == "descriptive")
        & (est["outcome"] == "participated")
        & (est["wave"] == "2026")
        & est["group_var"].isna()
    ].iloc[0]
    for lang, heading in (("id", "Ringkasan eksekutif"), ("en", "Executive summary")):
        text = " ".join(p.extract_text() for p in PdfReader(rep / f"city.{lang}.pdf").pages)
        assert heading in text
        assert fmt_percent(part["estimate"], lang) in text
        assert "import " not in text


def test_sites_below_the_threshold_publish_no_numbers(run):
    est = pd.read_parquet(run["result"].layout.processed / "results" / "estimates.parquet")
    site = est[(est["analysis"] == "site") & (est["wave"] == "2026")]
    sizes = site.groupby("group")["n"].max()
    small, large = sizes[sizes < 10], sizes[sizes >= 10]
    assert not large.empty
    rep = run["result"].layout.reports / "sites"
    for s in small.index:
        html = (rep / f"{s}.en.html").read_text()
        assert "Fewer than 10 people answered" in html and "<table" not in html
    for s in large.index:
        assert "<table" in (rep / f"{s}.en.html").read_text()


def test_the_exploration_notebook_runs_on_the_outputs(run, tmp_path):
    import nbformat

    from pipelines.runner import COMMON, Notebook, execute

    lay = run["result"].layout
    out = tmp_path / "explore.ipynb"
    execute(
        Notebook("explore.ipynb", COMMON),
        {
            "config_path": str(run["config"]),
            "processed_dir": str(lay.processed),
            "reports_dir": str(lay.reports),
        },
        out,
    )
    nb = nbformat.read(out, as_version=4)
    shown = [o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    tables = [d["text/plain"] for d in shown if "ci_low" in d.get("text/plain", "")]
    assert "participated" in tables[-1]  # the researcher's own svyglm table, after the results
    assert any("image/png" in o.get("data", {}) for o in nb.cells[-1].outputs)  # seaborn chart


def test_scale_scores_by_hand_on_rows_with_reversed_items(run):
    """Issue 11 on the bundled 5-point instrument: from the raw answer words, reverse = 1 + 5 - x
    and the score is the mean of the items (rows answering every item in the canonical words)."""
    from pipelines import analysis
    from pipelines.codebook import load_codebook
    from pipelines.config import load_config

    cfg = load_config(run["config"])
    cb = load_codebook(cfg.instrument, cfg.base_dir)
    words = {"Sangat tidak setuju": 1, "Tidak setuju": 2, "Netral": 3, "Setuju": 4}
    words["Sangat setuju"] = 5
    raw = pd.read_csv(run["survey"] / "solok_2025.csv", dtype=str, keep_default_na=False)
    df = pd.read_parquet(run["result"].layout.processed / "clean" / "2025.parquet")
    scored = analysis.prepare(df, cfg, cb).set_index("source_row")
    checked = 0
    for scale in ("skills", "confidence"):
        spec = cb.scales[scale]
        texts = raw[[cb.var(i).question.id for i in spec.items]]
        for i, row in texts.iterrows():
            codes = [words.get(t) for t in row]
            rev = [codes[spec.items.index(r)] for r in spec.reverse]
            if None in codes or 3 in rev or i + 2 not in scored.index:
                continue  # a reversed item at the midpoint would not show a wrong reversal
            codes = [
                6 - c if it in spec.reverse else c for it, c in zip(spec.items, codes, strict=True)
            ]
            assert scored.loc[i + 2, scale] == pytest.approx(sum(codes) / len(codes)), (scale, i)
            checked += 1
    assert checked >= 20


def test_reports_print_the_five_point_range(run):
    """The bundled instrument's scales are 1-5, in both languages."""
    for lang in ("id", "en"):
        text = " ".join(_page(run["result"].layout.reports / f"city.{lang}.html").text)
        assert "1–5" in text, lang


def test_the_plan_runs_every_analysis_for_the_bundled_instrument(run):
    """The bundled survey asks everything the plan needs: nothing is skipped."""
    plan = pd.read_parquet(run["result"].layout.processed / "results" / "plan.parquet")
    assert plan["runs"].all(), plan[~plan["runs"]].to_string()
    assert {"participation", "programme", "dose_response", "did"} <= set(plan["analysis"])
