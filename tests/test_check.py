"""`check`: every problem in one go, nothing written; what it passes, `run` accepts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import write_config

from pipelines import check
from pipelines.__main__ import main
from pipelines.codebook import INSTRUMENTS, load_codebook
from pipelines.config import load_config
from pipelines.errors import ConfigError, set_language
from pipelines.plan import reasons

CSV = "solok_2025.csv"


def _survey(small_survey: Path, folder: Path, waves=("2025",), **changes) -> Path:
    for w in waves:
        shutil.copy(small_survey / f"solok_{w}.csv", folder / f"solok_{w}.csv")
    return write_config(folder, waves=waves, survey_id="chk", messages_language="en", **changes)


def _edit(path: Path, change) -> Path:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


def _check(path: Path, capsys) -> tuple[int, str, list[str]]:
    set_language("en")
    code = main(["check", str(path)])
    out = capsys.readouterr()
    return code, out.out, out.err.strip().splitlines()


def _margins(data, **levels):
    data["design"]["weights"]["margins"].update(levels)


def test_every_problem_is_reported_in_one_go(small_survey, tmp_path, capsys):
    """Two missing exports, a margin with unknown levels, a cluster no question gives, and an
    unreadable wave: five sentences from one `check`, nothing written."""
    path = _survey(small_survey, tmp_path, waves=("2025", "2026"))

    def change(d):
        d["waves"][0]["files"].append({"path": "kota_2025.csv", "format": "csv"})
        d["waves"][0]["files"].append({"path": "laing_2025.csv", "format": "csv"})
        _margins(d, gender={"Perempuan": 1, "Laki-laki": 1})
        d["design"]["cluster"] = "library"

    _edit(path, change)
    (tmp_path / "solok_2026.csv").write_bytes(b"")
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _, err = _check(path, capsys)
    assert code == 2
    assert len(err) == 5 and all(line.startswith("ERROR: ") for line in err), err
    assert "kota_2025.csv" in err[0] and "laing_2025.csv" in err[1]
    assert "design.cluster" in err[2] and "'library'" in err[2]
    assert "design.weights.margins.gender" in err[3] and "'female'" in err[3]
    assert "solok_2026.csv" in err[4] and "empty" in err[4]
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_every_config_validation_error_is_listed(small_survey, tmp_path):
    path = _survey(small_survey, tmp_path)

    def change(d):
        d["report"]["suppression_threshold"] = "ten"
        d["cleaning"] = {"max_loss_share": 2, "accept_loss": ["unmatched_sites"]}
        d["design"]["weights"]["trim_ratio"] = 0.5
        d["sitess"] = d["sites"]

    _edit(path, change)
    with pytest.raises(ConfigError) as e:
        load_config(path)
    msg = e.value.text("en")
    for key in (
        "report.suppression_threshold",
        "cleaning.max_loss_share",
        "cleaning.accept_loss.0",
        "design.weights.trim_ratio",
        "'sitess'",
    ):
        assert key in msg, key


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda d: _margins(d, gender={"female": 1, "male": 1, "other": 1}), "unknown ['other']"),
        (lambda d: _margins(d, age_band={"15-24": 1, "25+": 1}), "missing ['25-34'"),
        (lambda d: d["design"].update(strata="district"), "'district' is not a question"),
        (
            lambda d: d["design"].update(weights={"method": "column", "column": "wt"}),
            "design.weights.column",
        ),
        (
            lambda d: d.setdefault("analysis", {}).update(breakdowns=["gender", "age"]),
            "key 'analysis.breakdowns': 'age' is a number derived from an answer",
        ),
    ],
)
def test_check_and_run_refuse_the_same_config(small_survey, tmp_path, capsys, change, fragment):
    from pipelines.runner import Run

    path = _edit(_survey(small_survey, tmp_path), change)
    code, _, err = _check(path, capsys)
    assert code == 2 and len(err) == 1 and fragment in err[0], err
    with pytest.raises(ConfigError, match=fragment.replace("[", r"\[").replace("(", r"\(")):
        Run(path, out_root=tmp_path / "out")


def test_margins_on_derived_bands_and_site_ids_are_understood():
    from pipelines.paths import RAW

    cfg = load_config(RAW / "solok" / "solok_2025.yaml", check_files=False)
    assert check.survey_problems(cfg, load_codebook("tpbis")) == []
    cols = check.known_columns(cfg, load_codebook("tpbis"))
    assert {"age", "age_band", "income_band", "kecamatan", "programme"} <= cols
    assert "birth_year" in cols and "full_name" not in cols


def test_a_number_listed_as_breakdown_is_named_with_its_band(tmp_path):
    """A breakdown by a number (here the codebook's income, an amount of money) is one error
    naming the key and the roles.derived line that bands it, in English and Indonesian."""
    from pipelines.paths import RAW

    data = yaml.safe_load((INSTRUMENTS / "tpbis.yaml").read_text(encoding="utf-8"))
    data["roles"]["breakdowns"] = ["gender", "income", "age_band"]
    (tmp_path / "cb.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    cfg = load_config(RAW / "solok" / "solok_2025.yaml", check_files=False)
    cfg = cfg.model_copy(update={"instrument": "cb.yaml"})
    problems = check.survey_problems(cfg, load_codebook(str(tmp_path / "cb.yaml")))
    assert len(problems) == 1
    en, idn = problems[0].text("en"), problems[0].text("id")
    assert en.startswith("Codebook 'cb.yaml', key 'roles.breakdowns': 'income' is an amount")
    fix = "income_band: {from: income, how: bands, cuts: income_bands, money: true}"
    assert fix in en and "list income_band under roles.breakdowns" in en
    assert idn.startswith("Buku kode 'cb.yaml', kunci 'roles.breakdowns'") and fix in idn
    assert "\n" not in en and "\n" not in idn  # one line


def test_plan_lines_list_runs_and_skips_with_reasons():
    set_language("en")
    table = pd.DataFrame(
        {
            "analysis": ["descriptive", "descriptive", "programme", "programme", "did"],
            "outcome": ["skills", "income", "skills", "income", None],
            "needs": ["", "", "programme", "programme", "two waves"],
            "runs": [True, True, False, False, False],
            "reason": [
                "",
                "",
                "plan.skip.no_programme",
                "plan.skip.no_programme",
                "plan.skip.one_wave",
            ],
            "reason_fields": [""] * 5,
        }
    )
    lines = check.plan_lines(table)
    assert lines[0] == "Analyses that will run: descriptive (skills, income)."
    assert lines[1:] == [
        "NOT RUN: programme (skills, income) — the form does not ask which programme.",
        "NOT RUN: did — the survey has one wave.",
    ]
    set_language("id")
    assert check.plan_lines(table)[-1] == "TIDAK DIJALANKAN: did — survei baru satu gelombang."


# --- what check passes, run accepts --------------------------------------------------------------


def _age_variant(small_survey, folder):
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from test_clean import _age_codebook

    df = pd.read_csv(small_survey / CSV, dtype=str, keep_default_na=False)
    birth = pd.to_numeric(df["Tahun lahir"], errors="coerce")
    ages = (2025 - birth).astype("Int64").astype(str).replace("<NA>", "")
    df.drop(columns=["Tahun lahir"]).assign(**{"Umur (tahun)": ages}).to_csv(
        folder / CSV, index=False
    )
    return write_config(folder, waves=("2025",), survey_id="age", instrument=_age_codebook(folder))


def _lossy_variant(small_survey, folder):
    df = pd.read_csv(small_survey / CSV, dtype=str, keep_default_na=False)
    df.loc[:39, "Perpustakaan yang paling sering Anda kunjungi"] = "Perpustakaan Nagari Baru"
    df.to_csv(folder / CSV, index=False)
    accept = {"accept_loss": ["unmatched_site"]}
    return write_config(folder, waves=("2025",), survey_id="lossy", cleaning=accept)


def _four_point_variant(small_survey, folder):
    from pipelines import parse

    df = pd.read_csv(small_survey / CSV, dtype=str, keep_default_na=False)
    cb = load_codebook("tpbis")
    for v in cb.by_type("likert"):
        if v.question.id in df:
            mid = parse.likert(df[v.question.id]).values.eq(3).fillna(False).to_numpy(bool)
            df.loc[mid, v.question.id] = "Setuju"
    df.to_csv(folder / CSV, index=False)
    text = (INSTRUMENTS / "tpbis.yaml").read_text(encoding="utf-8")
    (folder / "cb4.yaml").write_text(text.replace("labels: agree5", "labels: agree4"))
    return write_config(folder, waves=("2025",), survey_id="four", instrument="cb4.yaml")


@pytest.mark.parametrize(
    "variant",
    [
        lambda s, f: write_config(f, waves=("2025",), survey_id="plain"),
        _age_variant,
        _lossy_variant,
        _four_point_variant,
    ],
    ids=["bundled", "numeric_age", "accepted_loss", "four_point"],
)
def test_what_check_passes_run_accepts(small_survey, tmp_path, capsys, variant):
    """Each variant passes `check`, then every stage runs (the stages' own code, in-process;
    reports in HTML, one site) and the plan's analyses are the ones check listed."""
    from pipelines import steps
    from pipelines.paths import Layout
    from pipelines.runner import Run

    shutil.copy(small_survey / CSV, tmp_path / CSV)
    path = variant(small_survey, tmp_path)
    code, out, err = _check(path, capsys)
    assert code == 0, err
    Run(path, out_root=tmp_path / "out")  # refuses nothing up front
    cfg, cb, layout = steps.load(str(path), str(tmp_path / "p"), str(tmp_path / "r"))
    assert isinstance(layout, Layout)
    steps.run_ingest(cfg, cb, layout)
    cleaned = steps.run_clean(cfg, cb, layout)
    assert cleaned["quality"]["2025"]["rows_out"] > 200
    results = steps.run_analyse(cfg, cb, layout)
    assert len(results["estimates"]) > 0
    html = cfg.model_copy(update={"report": cfg.report.model_copy(update={"formats": ["html"]})})
    assert steps.run_report(html, cb, layout) and steps.run_site_report(html, cb, layout, "kota")
    listed = check.check_survey(path).plan
    pd.testing.assert_frame_equal(listed, results["plan"].reset_index(drop=True))
    skipped = listed[~listed["runs"]]
    assert reasons(skipped, "en").str.len().gt(0).all()  # every skip has its reason
    assert set(skipped["analysis"]) >= {"paired_change", "did"}  # one wave
