"""Multi-select questions in every export shape: one column of codes or labels, or one column
per option; on the TPBIS services question and on a non-TPBIS question."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines import multiselect
from pipelines.codebook import Variable, load_codebook

CB = load_codebook("tpbis")

# a health-information question of a posyandu survey (not TPBIS)
SOURCES = Variable(
    name="info_source",
    type="multiselect",
    question={"id": "Sumber informasi kesehatan", "en": "Sources of health information"},
    options={
        "radio": {"id": "Radio", "en": "Radio"},
        "wa": {"id": "Grup WhatsApp", "en": "WhatsApp group", "match": ["WA", "Whatsapp"]},
        "kader": {"id": "Kader posyandu, bidan", "en": "Health cadre, midwife"},
    },
)


def test_fold_ignores_case_width_punctuation_and_spacing():
    assert multiselect.fold("  Grup-WhatsApp!! ") == "grup whatsapp"
    assert multiselect.fold("ＢＵＫＵ_Anak") == "buku anak"  # full-width letters: NFKC
    assert multiselect.fold(3) == "3"


def test_every_spelling_of_an_option_finds_its_code():
    table = multiselect.option_lookup(SOURCES)
    assert table["wa"] == table["grup whatsapp"] == table["whatsapp group"] == "wa"
    assert table["kader posyandu bidan"] == "kader"


@pytest.mark.parametrize(
    "cell, want",
    [
        ("radio wa", {"radio", "wa"}),  # Kobo codes
        ("Radio, Grup WhatsApp", {"radio", "wa"}),  # Google Forms labels
        ("Kader posyandu, bidan; WA", {"kader", "wa"}),  # a label with a comma in it
    ],
)
def test_a_non_tpbis_question_in_one_column(cell, want):
    out, bad, other = multiselect.parse_question(pd.Series([cell, "", np.nan, "televisi"]), SOURCES)
    assert list(out.columns) == ["info_source__radio", "info_source__wa", "info_source__kader"]
    assert {c.split("__")[1] for c in out.columns if out[c].iloc[0] == 1} == want
    assert out.iloc[1:3].isna().all().all()  # blank or missing: not answered
    assert bad.tolist() == [False, False, False, True]  # no 'other' option to count it under
    assert not other.any()


def test_a_non_tpbis_option_column():
    vals, bad, not_asked = multiselect.parse_option(
        pd.Series(["WA", "tidak", "", "maybe"]), SOURCES, "wa"
    )
    assert [None if pd.isna(x) else int(x) for x in vals] == [1, 0, None, None]
    assert bad.tolist() == [False, False, False, True] and not not_asked.any()


def test_option_columns_in_codebook_order():
    df = pd.DataFrame(columns=["info_source__kader", "x", "info_source__radio"])
    assert multiselect.option_columns_in(df, SOURCES) == [
        "info_source__radio",
        "info_source__kader",
    ]


@pytest.mark.parametrize(
    "cell, want",
    [
        ("borrow internet", {"borrow", "internet"}),  # Kobo codes
        ("Meminjam buku, Internet dan komputer", {"borrow", "internet"}),  # Google Forms
        ("Meminjam buku; Kegiatan anak dan mendongeng", {"borrow", "children"}),  # XLSForm labels
        ("Borrowing books", {"borrow"}),
        ("Meminjam buku, senam pagi", {"borrow", "other"}),  # "Lainnya: ..." free answer
    ],
)
def test_multiselect_cells(cell, want):
    v = CB.var("services_used")
    out, bad, other = multiselect.parse_question(pd.Series([cell, np.nan]), v)
    got = {c.split("__")[1] for c in out.columns if out[c].iloc[0] == 1}
    assert got == want and not bad.iloc[0]
    assert out.iloc[1].isna().all()
    assert other.iloc[0] == (cell == "Meminjam buku, senam pagi")


@pytest.mark.parametrize(
    "values, want",
    [
        (["TRUE", "FALSE", ""], [1, 0, None]),
        (["1", "0", "n/a"], [1, 0, None]),
        (["Dipilih", "Tidak dipilih", ""], [1, 0, None]),
        (["Meminjam buku", "", ""], [1, None, None]),  # SurveyMonkey: the label when ticked
    ],
)
def test_option_columns(values, want):
    vals, bad, not_asked = multiselect.parse_option(
        pd.Series(values), CB.var("services_used"), "borrow"
    )
    assert [None if pd.isna(x) else int(x) for x in vals] == want
    assert bad.sum() == 0  # n/a is "not asked", not an unknown value
    assert not_asked.tolist() == [v == "n/a" for v in values]


@pytest.mark.parametrize(
    "header",
    [
        "grp/layanan/pinjam",  # Kobo, with the XLSForm's labels
        "grp.layanan.pinjam",  # the same read into R
        "layanan.borrow",
        "Layanan atau kegiatan perpustakaan yang Anda gunakan dalam 12 bulan terakhir - "
        "Meminjam buku",
    ],
)
def test_option_headers(header):
    df = pd.DataFrame({"source_file": ["f"], "source_row": [2], header: ["1"], "layanan": ["x"]})
    labels = {"pinjam": ["Meminjam buku"]}
    out, cols = multiselect.split_option_columns(df, CB, {}, lambda q, c: labels.get(c, []))
    assert cols == ["services_used__borrow"] and "layanan" not in out
