"""Optional: the readers on real exports in ../shared/realdata (never copied into the project).

Skipped cleanly when the folder is absent. The readers' shapes are checked, and two real
exports are run from `init` to reports in a temporary folder (nothing is written beside them).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipelines import ingest, multiselect
from pipelines.codebook import Codebook
from pipelines.config import InputFile

ROOT = Path(__file__).resolve().parents[1]
REAL = next(
    (p for p in (ROOT.parent / "shared" / "realdata", Path("/work/shared/realdata")) if p.exists()),
    ROOT.parent / "shared" / "realdata",
)
pytestmark = pytest.mark.needs_shared


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path


def test_real_kobo_export_read_into_r_with_its_xlsform():
    folder = _need(REAL / "kobo_iraq_water_2021")
    choices = pd.read_excel(folder / "xlsform_tool.xlsx", sheet_name="choices", dtype=str)
    codes = choices.loc[choices["list_name"] == "livelihood_type", "name"].dropna().tolist()
    cb = Codebook.model_validate(
        {
            "id": "real-kobo",
            "version": "0",
            "title": {"id": "x", "en": "x"},
            "variables": [
                {
                    "name": "submitted_at",
                    "type": "datetime",
                    "role": "submitted_at",
                    "question": {"id": "Timestamp", "en": "t"},
                    "aliases": ["X_submission_time"],
                },
                {
                    "name": "livelihood",
                    "type": "multiselect",
                    "question": {"id": "primary_livelihood", "en": "primary_livelihood"},
                    "options": {c: {"id": c, "en": c} for c in codes},
                },
            ],
        }
    )
    spec = InputFile(path="raw_data.xlsx", format="kobo")
    df = ingest.read_file(folder / "raw_data.xlsx", spec)
    parent = df["primary_livelihood"].copy()
    form_spec = InputFile(path="raw_data.xlsx", format="kobo", xlsform="xlsform_tool.xlsx")

    class _Cfg:  # the two attributes prepare_export reads
        base_dir, columns = folder, {}

    out, ids, options, _ = ingest.prepare_export(df, form_spec, _Cfg, cb)
    assert "livelihood__other_text" in options  # primary_livelihood_other: the typed "other"
    options = [o for o in options if not o.endswith("_text")]
    assert len(options) == len(codes) and "primary_livelihood" not in out
    assert ids["source_id"].str.fullmatch(r"[0-9a-f-]{36}").all()  # X_uuid, kept apart
    v = cb.var("livelihood")
    from_options = pd.DataFrame(
        {c: multiselect.parse_option(out[c], v, c.split("__")[1])[0] for c in options}
    )
    from_codes, bad, _ = multiselect.parse_question(parent.where(parent != ""), v)
    answered = from_options.notna().any(axis=1)
    # options added to the form later are blank in older submissions: unticked, as clean reads it
    from_options = from_options.mask(answered.to_numpy()[:, None] & from_options.isna(), 0)
    assert answered.sum() > 500 and not bad.any()
    pd.testing.assert_frame_equal(
        from_options[answered].astype("Int64"),
        from_codes.loc[answered, options].astype("Int64"),
        check_names=False,
    )


def test_real_indonesian_google_forms_export():
    path = _need(REAL / "google_forms_indonesian" / "gform_ai_usage_mahasiswa_noPII.csv")
    df = ingest.read_file(path, InputFile(path=path.name, format="csv"))
    assert df.columns[2] == "Timestamp" and df["source_row"].iloc[0] == 2
    from pipelines import parse

    ts = parse.dates(df["Timestamp"])
    assert not ts.invalid.any() and ts.values.iloc[0] == pd.Timestamp("2025-11-19 14:03:10")
    scale = df["Seberapa besar AI membantu produktivitas akademik anda?"]
    got = parse.likert(scale)  # "4.0": a linear scale re-saved as a float
    assert not got.invalid.any() and got.values.iloc[0] == 4


def test_real_kobo_form_becomes_a_codebook_that_cleans_its_export(tmp_path):
    """The real water XLSForm -> codebook -> the real export ingested and cleaned in memory:
    every `relevant` evaluated, not asked counted apart from not answered, offsets parsed."""
    import yaml

    from pipelines import clean
    from pipelines.config import load_config
    from pipelines.paths import RAW
    from pipelines.xlsform import codebook_from_xlsform

    folder = _need(REAL / "kobo_iraq_water_2021")
    cb = codebook_from_xlsform(folder / "xlsform_tool.xlsx")
    assert cb.var("age_hoh").relevant == "selected(${hhh_r}, 'no')"
    assert cb.var("age_respondent_r").range == (18, 119)
    cb = Codebook.model_validate(
        cb.model_dump()
        | {"variables": [v.model_dump() | {"required": False} for v in cb.variables]}
    )
    cfg_data = yaml.safe_load((RAW / "solok" / "solok_2025.yaml").read_text())
    cfg_data["waves"] = [
        {
            "id": "2021",
            "label": {"id": "2021", "en": "2021"},
            "reference_date": "2021-07-31",
            "files": [{"path": "raw_data.xlsx", "format": "kobo", "xlsform": "xlsform_tool.xlsx"}],
        }
    ]
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(cfg_data))
    cfg = load_config(tmp_path / "s.yaml", check_files=False).model_copy(
        update={"base_dir": folder}
    )
    got = ingest.ingest_wave(cfg, cb, cfg.waves[0], b"r" * 32)
    data, log = clean.clean_wave(got.data, cfg, cb, cfg.waves[0])
    s = log.summary()
    assert len(data) == 632 and data["start"].notna().all()
    assert not s["rule"].eq("relevant_not_evaluated").any()
    not_asked = int(s.loc[s["rule"].eq("not_asked"), "rows_touched"].sum())
    not_answered = int(s.loc[s["rule"].eq("not_answered"), "rows_touched"].sum())
    assert not_asked > 50 * not_answered > 0
    assert "primary_livelihood__other_text" in data  # "_other" text kept beside its option


@pytest.mark.slow
@pytest.mark.parametrize(
    ("folder", "files"),
    [
        ("kobo_iraq_water_2021", ["raw_data.xlsx", "xlsform_tool.xlsx"]),
        ("google_forms_indonesian", ["gform_ai_usage_mahasiswa_noPII.csv"]),
    ],
)
def test_a_real_export_runs_from_init_to_reports(folder, files, tmp_path):
    """What a staff member does with a form that is not TPBIS and names no library: init, then
    run. Every stage runs (descriptive estimates, breakdowns, no scale, no site) and both
    languages' reports are written; the analyses that need a library or a programme question
    are skipped with a reason, never a crash."""
    import shutil

    from test_cli import _cli

    for f in files:
        shutil.copy(_need(REAL / folder / f), tmp_path / f)
    out = _cli("init", str(tmp_path), "--lang", "en")
    assert out.returncode == 0, out.stderr
    out = _cli(
        "run", str(tmp_path / "survey.yaml"), "--out-root", str(tmp_path / "out"), timeout=900
    )
    assert out.returncode == 0, out.stderr[-3000:] + out.stdout[-2000:]
    reports = tmp_path / "out" / "reports"
    assert len(list(reports.rglob("city.*.html"))) == 2 and len(list(reports.rglob("*.pdf"))) == 2
    assert not list(reports.rglob("sites/*"))  # the form names no library
    plan = pd.read_parquet(next((tmp_path / "out" / "data").rglob("plan.parquet")))
    ran = set(plan.loc[plan["runs"].astype(bool), "analysis"])
    assert "descriptive" in ran and not ran & {"participation", "site", "inclusion"}
