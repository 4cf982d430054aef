"""XLSForm -> codebook (.xlsx and legacy .xls), constraint ranges, and `relevant` evaluated on
cleaned data. The fixture form (tests/fixtures/kobo_water_form.xls[x], made by make_fixtures.py)
imitates the real Kobo water survey's shapes; it is not the TPBIS instrument."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines import xlsform
from pipelines.__main__ import main
from pipelines.codebook import Codebook, load_codebook
from pipelines.errors import InputError

FIX = Path(__file__).parent / "fixtures"
FORM = FIX / "kobo_water_form.xlsx"


@pytest.fixture(scope="module")
def cb() -> Codebook:
    return xlsform.codebook_from_xlsform(FORM)


def test_legacy_xls_form_gives_the_same_codebook(cb):
    assert (FIX / "kobo_water_form.xls").read_bytes()[:8] == xlsform.OLE2
    assert xlsform.codebook_from_xlsform(FIX / "kobo_water_form.xls") == cb
    # and the translation of choice codes reads it too
    assert xlsform.read_xlsform(FIX / "kobo_water_form.xls").option_labels("sources", "well")


def test_codebook_from_form_types_lists_ranges_and_settings(cb):
    assert isinstance(cb, Codebook)
    assert (cb.id, cb.version, cb.title.id) == ("water_hh", "2021070501", "Survei air rumah tangga")
    kinds = {v.name: v.type for v in cb.variables}
    assert kinds == {
        "submitted_at": "datetime",
        "start": "datetime",
        "end": "datetime",
        "visit_date": "datetime",
        "resp_name": "personal",
        "phone_number": "personal",
        "age": "numeric",
        "water_litres": "numeric",
        "hh_head": "categorical",
        "age_hoh": "numeric",
        "sources": "multiselect",
        "pay_amount": "numeric",
        "pay_fair": "categorical",
        "tenure": "categorical",
    }  # notes, calculate, GPS and the "_other" specify text are not variables
    assert cb.var("start").role == "started_at" and cb.var("end").role == "ended_at"
    assert {v.personal for v in cb.personal} == {"name", "phone"}
    assert list(cb.var("sources").options) == ["piped", "well", "bottled", "other", "dont_know"]
    assert list(cb.var("tenure").levels) == ["owned", "renting", "other"]  # or_other
    assert cb.var("age").range == (15, 120)
    assert cb.var("water_litres").range == (0, 5000)  # decimal: a strict bound stays
    assert cb.var("age_hoh").range == (15, 120)
    assert cb.var("pay_amount").range[0] == 0 and math.isinf(cb.var("pay_amount").range[1])


def test_labels_per_language_and_aliases(cb):
    age = cb.var("age")
    assert (age.question.id, age.question.en) == ("Berapa umur Anda?", "What is your age?")
    assert cb.var("sources").options["dont_know"].en == "Don't know"
    assert cb.var("sources").options["dont_know"].id == "Tidak tahu"
    assert "age" in age.aliases  # Kobo exports use the names as headers


def test_relevant_kept_with_the_groups_condition(cb):
    assert cb.var("age_hoh").relevant == "selected(${hh_head}, 'no')"
    assert cb.var("pay_amount").relevant == "${hh_head} = 'yes'"
    assert cb.var("pay_fair").relevant == "(${hh_head} = 'yes') and (${pay_amount} > 0)"
    assert cb.var("age").relevant is None


def _write_form(path: Path, survey: list[dict], choices: list[dict]) -> Path:
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame(survey).to_excel(xl, sheet_name="survey", index=False)
        pd.DataFrame(choices).to_excel(xl, sheet_name="choices", index=False)
    return path


def test_plain_label_column_serves_both_languages_and_odd_codes_are_kept(tmp_path):
    form = _write_form(
        tmp_path / "f.xlsx",
        [
            {"type": "select_multiple deg", "name": "degrees", "label": "Degrees held"},
            {"type": "range", "name": "score", "label": "Score", "parameters": "start=0 end=10"},
        ],
        [
            {"list_name": "deg", "name": "Master-s", "label": "Master’s"},
            {"list_name": "deg", "name": "master_s", "label": "Other master"},
        ],
    )
    cb = xlsform.codebook_from_xlsform(form)
    deg = cb.var("degrees")
    assert (deg.question.id, deg.question.en) == ("Degrees held", "Degrees held")
    assert list(deg.options) == ["master_s", "master_s_2"]  # unique a-z0-9_ codes
    assert "Master-s" in deg.options["master_s"].match  # the form's own name still matches
    assert cb.var("score").range == (0, 10)


@pytest.mark.parametrize(
    "constraint, integer, want",
    [
        (". >= 0 and . <= 120", True, (0, 120)),
        (".> 0 and .< 8", True, (1, 7)),
        (".>=50 and .<=500000", True, (50, 500000)),
        (".> 0 and .< 8", False, (0, 8)),
        (". <= 10", True, (-math.inf, 10)),
        (".<= ${tot_expenses}", True, None),
        ("regex(., '^[0]{1}[0-9]{10}$')", False, None),
        (". < 5 or . > 10", True, None),
        (None, True, None),
    ],
)
def test_constraint_range(constraint, integer, want):
    assert xlsform.constraint_range(constraint, integer) == want


def test_unreadable_and_incomplete_forms_say_where_and_what_to_do(tmp_path):
    broken = tmp_path / "form.xls"
    broken.write_bytes(xlsform.OLE2 + b"\x00" * 100)  # an .xls cut off after its header
    with pytest.raises(InputError, match=r"form\.xls.*neither a readable \.xlsx nor"):
        xlsform.codebook_from_xlsform(broken)
    no_list = _write_form(
        tmp_path / "nolist.xlsx",
        [{"type": "select_one missing_list", "name": "q", "label": "Q"}],
        [{"list_name": "other", "name": "a", "label": "A"}],
    )
    with pytest.raises(InputError) as e:
        xlsform.codebook_from_xlsform(no_list)
    assert 'row 2, column "type"' in e.value.text("en") and "missing_list" in e.value.text("en")
    assert 'baris 2, kolom "type"' in e.value.text("id")


def test_relevant_mask_follows_odk_rules_on_cleaned_data(cb):
    df = pd.DataFrame(
        {
            "hh_head": ["yes", "no", np.nan, "no"],
            "pay_amount": [10.0, np.nan, 0.0, 5.0],
            "sources__piped": pd.array([1, 0, pd.NA, 1], dtype="Int64"),
            "sources__well": pd.array([0, 1, pd.NA, 1], dtype="Int64"),
            "sources__other": pd.array([1, 0, pd.NA, 0], dtype="Int64"),
        }
    )
    mask = lambda e: xlsform.relevant_mask(e, df, cb).tolist()  # noqa: E731
    assert mask("selected(${hh_head}, 'no')") == [False, True, False, True]
    assert mask("${hh_head} != 'yes'") == [False, True, True, True]  # blank != 'yes'
    assert mask("(${hh_head} = 'yes') and (${pay_amount} > 0)") == [True, False, False, False]
    assert mask("selected(${sources}, 'other') or ${pay_amount} >= 5") == [
        True,
        False,
        False,
        True,
    ]
    assert mask("count-selected(${sources}) = 2") == [True, False, False, True]
    assert mask("not(selected(${sources}, 'well'))") == [True, False, True, False]
    assert xlsform.relevant_mask("${unknown_q} = 'x'", df, cb) is None
    assert xlsform.relevant_mask("jr:choice-name(${hh_head}) = 'x'", df, cb) is None


def test_form_beside_the_export_with_another_name(tmp_path, cb):
    copy = tmp_path / "Formulir Air (versi lama).XLS"
    shutil.copy(FIX / "kobo_water_form.xls", copy)  # the engine follows the bytes, not the name
    assert xlsform.codebook_from_xlsform(copy, codebook_id="water_hh") == cb


# --- codebook -> XLSForm -> codebook (export-form) ------------------------------------------

BUNDLED = {"tpbis": "tpbis", "other": str(FIX / "other_instrument.yaml")}


def carried(cb) -> dict:
    """What an XLSForm carries of each variable: name, type, question (id, en), required,
    choices (codes and both labels), label set (points and labels), range, personal kind,
    the time roles."""
    out = {}
    for v in cb.variables:
        d = {"type": v.type, "question": (v.question.id, v.question.en), "required": v.required}
        d["range"] = tuple(float(x) for x in v.range) if v.range else None
        d["personal"] = v.personal
        d["role"] = v.role
        d["choices"] = {c: (lv.id, lv.en) for c, lv in {**v.levels, **v.options}.items()}
        if v.labels:
            ls = cb.label_sets[v.labels]
            d["labels"] = (v.labels, ls.points, {k: (t.id, t.en) for k, t in ls.labels.items()})
        out[v.name] = d
    return out


@pytest.mark.parametrize("ref", list(BUNDLED))
def test_round_trip_keeps_what_an_xlsform_carries(ref, tmp_path):
    cb = load_codebook(BUNDLED[ref])
    form, md, csv = xlsform.export_form(cb, tmp_path)
    back = xlsform.codebook_from_exported_form(form)
    assert carried(back) == carried(cb)
    assert [v.name for v in back.variables] == [v.name for v in cb.variables]
    assert (back.id, back.version, back.title) == (cb.id, cb.version, cb.title)
    # with the original as base, what a form cannot carry comes back too: the same codebook
    assert xlsform.codebook_from_exported_form(form, base=cb) == cb


def test_the_xlsform_has_the_standard_sheets_and_columns(tmp_path):
    cb = load_codebook("tpbis")
    form = xlsform.export_form(cb, tmp_path)[0]
    sheets = pd.read_excel(form, sheet_name=None, dtype=str)
    assert set(sheets) == {"survey", "choices", "settings"}
    survey = sheets["survey"].set_index("name")
    assert {"label::Indonesian (id)", "label::English (en)", "constraint", "required"} <= set(
        survey.columns
    )
    assert survey.loc["skill_1", "type"] == "select_one agree5"
    assert survey.loc["services_used", "type"] == "select_multiple services_used"
    assert survey.loc["birth_year", "type"] == "integer"
    assert survey.loc["birth_year", "constraint"] == ". >= 1920 and . <= 2015"
    assert survey.loc["participated", "type"] == "select_one ya_tidak"
    assert survey.loc["started_at", "type"] == "start"
    assert "submitted_at" not in survey.index  # Kobo records _submission_time itself
    ch = sheets["choices"]
    agree = ch[ch["list_name"] == "agree5"]
    assert agree["name"].tolist() == ["1", "2", "3", "4", "5"]
    assert agree["label::English (en)"].iloc[-1] == "Strongly agree"
    assert sheets["settings"]["form_id"].iloc[0] == "tpbis-community"
    # ingest's form reader (codes -> labels in Kobo exports) reads the exported form
    form_in = xlsform.read_xlsform(form)
    df = pd.DataFrame({"gender": ["female"], "skill_1": ["4"], "services_used": ["borrow read"]})
    df, changed = form_in.translate(df)
    assert df.iloc[0].tolist() == ["Perempuan", "Setuju", "Meminjam buku; Membaca di perpustakaan"]


def test_question_list_for_google_forms_in_both_languages(tmp_path):
    cb = load_codebook(str(FIX / "other_instrument.yaml"))
    _, md, csv = xlsform.export_form(cb, tmp_path)
    text = md.read_text()
    assert "**Pustakawan ramah dan membantu** *" in text
    assert "_Librarians are friendly and helpful_" in text
    assert "   - SANGAT SETUJU / Strongly agree" in text
    assert "Jawaban singkat (angka) / Short answer (number); 0-31" in text
    assert "Submission time" not in text  # the form records it itself
    rows = pd.read_csv(csv)
    sat = rows.set_index("variable").loc["sat_staff"]
    assert sat["options_id"].split(" | ")[0] == "SANGAT TIDAK SETUJU"
    assert sat["kind_en"] == "Multiple choice" and sat["required"] == "yes"


def test_export_form_command(tmp_path, capsys):
    assert main(["export-form", "tpbis", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "tpbis-community.xlsx").exists()
    assert "tpbis-community-questions.md" in capsys.readouterr().out


def test_round_trip_of_a_codebook_read_from_a_kobo_form(cb, tmp_path):
    """The water survey's form -> codebook -> XLSForm -> codebook: relevant conditions, select
    lists with their codes, ranges and personal kinds survive."""
    form = xlsform.export_form(cb, tmp_path)[0]
    back = xlsform.codebook_from_exported_form(form)
    assert carried(back) == carried(cb)
    assert {v.name: v.relevant for v in back.variables} == {
        v.name: v.relevant for v in cb.variables
    }
    assert any(v.relevant for v in cb.variables)


# --- choice codes -> labels in an export (read_xlsform) ----------------------------------------


def _form(path: Path, survey: dict, choices: dict | None) -> Path:
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        pd.DataFrame(survey).to_excel(xl, sheet_name="survey", index=False)
        if choices is not None:
            pd.DataFrame(choices).to_excel(xl, sheet_name="choices", index=False)
    return path


@pytest.fixture
def clinic_form(tmp_path) -> Path:
    """A health-post visit form (not the TPBIS instrument); English labels come first."""
    return _form(
        tmp_path / "clinic.xlsx",
        {
            "type": ["select_one yn", "select_multiple svc", "integer", "begin_group"],
            "name": ["visited", "services", "visits", "grp"],
        },
        {
            "list_name": ["yn", "yn", "svc", "svc", "svc"],
            "name": ["1", "0", "imm", "anc", "fp"],
            "label::English (en)": ["Yes", "No", "Immunisation", "Antenatal care", None],
            "label::Bahasa Indonesia (id)": ["Ya", "Tidak", "Imunisasi", "Periksa hamil", "KB"],
        },
    )


def test_questions_and_labels_with_indonesian_first(clinic_form):
    form = xlsform.read_xlsform(clinic_form)
    assert form.questions == {
        "visited": ("select_one", "yn"),
        "services": ("select_multiple", "svc"),
    }
    assert form.labels["yn"] == {"1": ["Ya", "Yes"], "0": ["Tidak", "No"]}
    assert form.labels["svc"]["fp"] == ["KB"]  # a missing English label is skipped
    assert form.option_labels("grp/services", "anc") == ["Periksa hamil", "Antenatal care"]
    assert form.option_labels("visits", "1") == [] and form.option_labels("services", "x") == []


@pytest.mark.parametrize("header", ["services", "grp/services", "grp.services"])
def test_question_behind_kobo_and_r_headers(clinic_form, header):
    assert xlsform.read_xlsform(clinic_form).question_of(header) == "services"


def test_translate_codes_to_preferred_labels(clinic_form):
    df = pd.DataFrame(
        {
            "source_row": ["1", "0", "imm"],  # never translated
            "grp/visited": ["1", "0", "2"],  # "2" is not in the form: left as it is
            "grp.services": ["imm anc", "fp", "imm zzz"],  # one unknown code: cell left as is
            "visits": ["1", "0", np.nan],
        }
    )
    out, changed = xlsform.read_xlsform(clinic_form).translate(df.copy())
    assert out["grp/visited"].tolist() == ["Ya", "Tidak", "2"]
    assert out["grp.services"].tolist() == ["Imunisasi; Periksa hamil", "KB", "imm zzz"]
    assert out["source_row"].tolist() == ["1", "0", "imm"]
    assert out["visits"].tolist()[:2] == ["1", "0"]
    assert changed == 4


def test_the_fixture_kobo_form_reads_its_likert_and_multiselect_lists():
    form = xlsform.read_xlsform(FIX / "kobo_form.xlsx")
    kinds = {kind for kind, _ in form.questions.values()}
    assert kinds == {"select_one", "select_multiple"}
    assert form.option_labels("layanan", "pinjam")[0] == "Meminjam buku"
