"""Ingest: readers for real-shaped exports, header mapping, de-identification at the door."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers import write_config

from pipelines import ingest, paths, privacy
from pipelines.codebook import load_codebook
from pipelines.config import InputFile, load_config
from pipelines.errors import InputError

CB = load_codebook("tpbis")
SECRET = b"k" * 32


def _wave(cfg, wid):
    return next(w for w in cfg.waves if w.id == wid)


@pytest.fixture(scope="module")
def csv_cfg(small_survey):
    return load_config(write_config(small_survey, "csv"))


def test_personal_columns_never_leave_ingest(csv_cfg, small_survey):
    got = ingest.ingest_wave(csv_cfg, CB, _wave(csv_cfg, "2025"), SECRET)
    personal = {v.name for v in CB.personal}
    assert personal.isdisjoint(got.data.columns)
    raw = pd.read_csv(small_survey / "solok_2025.csv", dtype=str, keep_default_na=False)
    names = set(raw["Nama lengkap"]) - {""}
    as_text = got.data.astype(str).to_numpy().ravel()
    assert not names & set(as_text)
    findings = privacy.scan_paths([_write(got.data, small_survey / "ing.parquet")])
    assert findings == []


def _write(df, path):
    df.to_parquet(path)
    return path


def test_every_row_keeps_its_source_file_and_spreadsheet_row(csv_cfg, small_survey):
    got = ingest.ingest_wave(csv_cfg, CB, _wave(csv_cfg, "2025"), SECRET)
    assert (got.data["source_file"] == "solok_2025.csv").all()
    assert got.data["source_row"].tolist() == list(range(2, 2 + len(got.data)))


def test_keys_are_keyed_pseudonyms_that_link_waves(csv_cfg, small_survey):
    a = ingest.ingest_wave(csv_cfg, CB, _wave(csv_cfg, "2025"), SECRET).data
    b = ingest.ingest_wave(csv_cfg, CB, _wave(csv_cfg, "2026"), SECRET).data
    other = ingest.ingest_wave(csv_cfg, CB, _wave(csv_cfg, "2025"), b"x" * 32).data
    raw = pd.read_csv(small_survey / "solok_2025.csv", dtype=str, keep_default_na=False)
    nik = raw["NIK (Nomor Induk Kependudukan)"].str.replace(r"\D", "", regex=True)
    assert not set(nik) & set(a["respondent_key"])  # never the NIK itself
    assert (a["respondent_key"] != other["respondent_key"]).all()  # depends on the secret
    truth = json.loads((small_survey / "truth.json").read_text())
    rows_1, rows_2 = zip(*truth["panel"]["pairs"], strict=True)
    rows_1, rows_2 = list(rows_1), list(rows_2)
    assert a["respondent_key"].iloc[rows_1].tolist() == b["respondent_key"].iloc[rows_2].tolist()


def test_personal_data_in_free_text_is_masked(csv_cfg, small_survey):
    truth = json.loads((small_survey / "truth.json").read_text())["mess"]["2025"]
    got = ingest.ingest_wave(csv_cfg, CB, _wave(csv_cfg, "2025"), SECRET)
    assert got.log["masked_in_free_text"].iloc[0] >= truth["pii_in_feedback"]
    text = " ".join(got.data["feedback"].dropna())
    assert privacy.find_personal_data(text) == []


@pytest.mark.parametrize("fmt", ["xlsx", "sav"])
def test_every_format_yields_the_same_ingested_data(small_survey, fmt, csv_cfg):
    other = load_config(write_config(small_survey, fmt, survey_id=f"t-{fmt}"))
    a = ingest.ingest_wave(csv_cfg, CB, _wave(csv_cfg, "2026"), SECRET).data
    b = ingest.ingest_wave(other, CB, _wave(other, "2026"), SECRET).data
    cols = [c for c in a.columns if c not in ("source_file", "source_row")]
    strip = lambda df: df[cols].map(lambda x: x.rstrip() if isinstance(x, str) else x)  # noqa: E731
    pd.testing.assert_frame_equal(
        strip(a), strip(b), check_dtype=False
    )  # SPSS drops trailing spaces
    first = 1 if fmt == "sav" else 2  # SPSS numbers cases; spreadsheets number rows
    assert b["source_row"].iloc[0] == first


# --- hand-made exports imitating other tools -------------------------------------------------

HEADERS = {v.name: v.question.id for v in CB.variables}


def _answers(n=3):
    row = {
        "consent": "Ya",
        "full_name": "Siti Aminah",
        "phone": "0812-3456-7890",
        "nik": "1372015501900001",
        "email": "siti@example.com",
        "address": "Jl. Mawar 1",
        "site": "Perpustakaan Umum Kota Solok",
        "kelurahan": "Laing",
        "gender": "Perempuan",
        "birth_year": "1990",
        "education": "SMA",
        "occupation": "IRT",
        "disability": "Tidak",
        "participated": "Ya",
        "programme": "Pemasaran online",
        "sessions": "4",
        "income": "1,5 juta",
        "income_change": "Naik",
        "business": "Ya",
        "got_job": "Tidak",
        "feedback": "Terima kasih",
    }
    for v in CB.by_type("likert"):
        row[v.name] = "Setuju"
    rows = []
    for i in range(n):
        r = dict(row, nik=f"13720155019000{i:02d}")
        rows.append(r)
    return rows


def _frame(header_of, timestamp="Timestamp"):
    rows = _answers()
    df = pd.DataFrame([{header_of(k): v for k, v in r.items()} for r in rows])
    df.insert(0, timestamp, ["25/11/2025 14.03.22"] * len(df))
    return df


def test_semicolon_cp1252_csv_with_cap_waktu(tmp_path):
    df = _frame(lambda k: HEADERS[k], timestamp="Cap waktu")
    df[HEADERS["feedback"]] = "Perpustakaan sangat membantu – café"
    path = tmp_path / "forms.csv"
    df.to_csv(path, sep=";", index=False, encoding="cp1252")
    got = ingest.read_file(path, InputFile(path="forms.csv", format="csv"))
    m = ingest.map_headers(list(got.columns), CB, {})
    assert m.columns["Cap waktu"] == "submitted_at"
    assert got[HEADERS["feedback"]].iloc[0] == "Perpustakaan sangat membantu – café"
    assert len(got) == 3


CSV_CASES = {
    "sample": None,  # the bundled baseline export
    "quotes and newlines": (
        'Timestamp,Nama,"Saran, kritik"\r\n'
        '2025-01-02 10:00,"Ani ""Nunung""","baris satu\nbaris dua"\r\n'
        "2025-01-02 10:05,Budi,\r\n"
        "\r\n"
        ",,\r\n"
    ),
    "semicolons": "Cap waktu;Umur\n2/1/2025 10:00:00;34\n2/1/2025 10:01:00; 35 \n",
}


@pytest.mark.parametrize("case", CSV_CASES)
def test_fast_csv_reader_reads_what_pandas_reads(case, tmp_path):
    """Arrow's reader (the fast path) and pandas' C reader give the same text table."""
    text = CSV_CASES[case]
    if text is None:
        text = (paths.ROOT / "data/raw/solok/solok_2025.csv").read_text(encoding="utf-8-sig")
    delim = ";" if case == "semicolons" else ","
    spec = InputFile(path="x.csv", format="csv")
    header = text.splitlines()[0]
    fast = ingest._read_csv_arrow(text, delim, spec, header)
    slow = ingest._read_csv_pandas(tmp_path / "x.csv", text, delim, spec)
    assert fast is not None
    pd.testing.assert_frame_equal(fast, slow)


@pytest.mark.parametrize(
    "text",
    [
        "a,a,b\n1,2,3\n",  # repeated header: pandas names it a.1 and ingest refuses the file
        "a,,b\n1,2,3\n",  # blank header
        "a,b,c\n1,2\n3,4,5\n",  # short row: pandas fills it, Arrow refuses
        "a,b\n1,2,3\n",  # long row: pandas' error names the row
    ],
)
def test_fast_csv_reader_leaves_odd_files_to_pandas(text):
    spec = InputFile(path="x.csv", format="csv")
    assert ingest._read_csv_arrow(text, ",", spec, text.splitlines()[0]) is None


def test_surveymonkey_two_row_header_xlsx(tmp_path):
    df = _frame(lambda k: HEADERS[k])
    top = list(df.columns)
    sub = ["Response"] * len(top)
    path = tmp_path / "monkey.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame([top, sub, *df.to_numpy().tolist()]).to_excel(xl, index=False, header=False)
    got = ingest.read_file(path, InputFile(path="monkey.xlsx", format="xlsx", header_rows=2))
    assert list(got.columns[2:]) == top
    assert got["source_row"].tolist() == [3, 4, 5]


def test_kobo_group_prefixed_names_and_metadata(tmp_path):
    df = _frame(lambda k: f"grp_{k[:3]}/{k}", timestamp="_submission_time")
    df["_uuid"] = ["a", "b", "c"]
    df["_submission_time"] = "2025-11-25T14:03:22.123+07:00"
    path = tmp_path / "kobo.csv"
    df.to_csv(path, index=False)
    got = ingest.read_file(path, InputFile(path="kobo.csv", format="kobo"))
    m = ingest.map_headers(list(got.columns), CB, {})
    assert m.columns["grp_ski/skill_1"] == "skill_1"
    assert m.columns["_submission_time"] == "submitted_at"
    assert "_uuid" in m.unmatched


def test_stata_with_value_labels(tmp_path):
    import pyreadstat

    df = pd.DataFrame({"gender": [1, 2, 1], "birth_year": [1990.0, 1985.0, np.nan]})
    path = tmp_path / "s.dta"
    pyreadstat.write_dta(
        df, str(path), variable_value_labels={"gender": {1: "Perempuan", 2: "Laki-laki"}}
    )
    got = ingest.read_file(path, InputFile(path="s.dta", format="dta"))
    assert got["gender"].tolist() == ["Perempuan", "Laki-laki", "Perempuan"]
    assert got["birth_year"].tolist() == ["1990", "1985", ""]


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"Timestamp,Nama lengkap\n", "no answers"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00binary", "not a text"),
        (b"Timestamp,Nama\n1,2\n3,4,5,6\n", "row 3"),
        (b"Timestamp,Nama,Nama\n1,2,3\n", 'column "Nama"'),
    ],
)
def test_broken_csv_gives_one_clear_sentence(tmp_path, content, fragment):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as e:
        ingest.read_file(path, InputFile(path="bad.csv", format="csv"))
    msg = e.value.text("en")
    assert "bad.csv" in msg and fragment in msg
    assert "\n" not in msg and "Traceback" not in msg


def test_missing_required_question_names_the_question(small_survey, tmp_path):
    raw = pd.read_csv(small_survey / "solok_2025.csv", dtype=str, keep_default_na=False)
    raw.drop(columns=["Jenis kelamin"]).to_csv(tmp_path / "solok_2025.csv", index=False)
    cfg = load_config(write_config(tmp_path, "csv", waves=("2025",)))
    with pytest.raises(InputError, match=r'"Jenis kelamin" \(gender\)'):
        ingest.ingest_wave(cfg, CB, cfg.waves[0], SECRET)


UTF8_FILES = {
    "bom_crlf": "\ufeffa,b,c\r\n" + "".join(f"{i},x{i},ü{i}\r\n" for i in range(40)),
    "no_final_newline": "a,b,c\n" + "\n".join(f"{i},é{i},日本{i}" for i in range(40)),
    "cut_last_row": "a,b,c\n" + "".join(f"{i},{i},{i}\n" for i in range(40)) + "41,x",
    "title_rows": "Survei 2025\n\na;b;c\n" + "".join(f"{i};ñ;{i}\n" for i in range(40)),
    "quoted_breaks": 'a,b\n1,"x\u2028y"\n' + "".join(f'{i},"p\nq"\n' for i in range(40)),
}


@pytest.mark.parametrize("case", [*UTF8_FILES, "bom_utf8_explicit", "cp1252"])
def test_undecoded_utf8_path_reads_what_the_decoded_path_reads(case, tmp_path, monkeypatch):
    """Large UTF-8 files go to Arrow undecoded (only their ends are decoded): same table, same
    first row number and the same errors as decoding the whole file."""
    text = UTF8_FILES.get(case, UTF8_FILES["bom_crlf"])
    data = text.encode("cp1252", errors="replace") if case == "cp1252" else text.encode()
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    spec = InputFile(
        path="x.csv",
        format="csv",
        skip_rows=2 if case == "title_rows" else 0,
        encoding="utf-8" if case == "bom_utf8_explicit" else None,
    )

    def read():
        try:
            return ingest.read_csv(path, spec)
        except InputError as e:
            return str(e)

    decoded = read()
    calls = []
    real_decode = ingest._decode
    monkeypatch.setattr(ingest, "_decode", lambda *a: calls.append(1) or real_decode(*a))
    monkeypatch.setattr(ingest, "FAST_UTF8_BYTES", 0)
    monkeypatch.setattr(ingest, "_WINDOW", 48)  # several windows, cut inside characters
    fast = read()
    if isinstance(decoded, str):
        assert fast == decoded
    else:
        pd.testing.assert_frame_equal(fast[0], decoded[0])
        assert fast[1] == decoded[1]
    # decoded whole: the cp1252 file, and for pandas the files Arrow refuses (a cut row; a
    # BOM kept by 'encoding: utf-8' in the first header, which Arrow drops)
    assert bool(calls) == (case in ("cp1252", "cut_last_row", "bom_utf8_explicit"))


def test_link_key_follows_the_codebook_roles():
    """A form whose phone question is called `no_hp` and that names it as the link key:
    respondents are linked by it (no NIK question), pseudonymised with the phone cleaner."""
    from pipelines.codebook import Codebook, load_codebook

    data = load_codebook("tpbis").model_dump(by_alias=True)
    for v in data["variables"]:
        if v["name"] == "phone":
            v["name"] = "no_hp"
    data["variables"] = [v for v in data["variables"] if v["name"] != "nik"]
    data["roles"]["link"] = ["no_hp", "email"]
    cb = Codebook.model_validate(data)
    assert ingest.link_columns(cb) == [("no_hp", "phone"), ("email", "email")]
    df = pd.DataFrame({"no_hp": ["0812-3456-7890", "+62 812 3456 7890", "", "12"]})
    df["email"] = ["", "", "A@b.id", ""]
    key, source = ingest.respondent_keys(df, b"k" * 32, ingest.link_columns(cb))
    assert source.tolist() == ["phone", "phone", "email", "none"]
    assert key[0] == key[1] and key[0].startswith("P")  # the same phone written two ways
    assert pd.isna(key[3])


def test_a_legacy_xls_export_is_read_like_xlsx(tmp_path):
    """Excel 97-2003 files (Kobo's and older office exports) are read by their bytes, whatever
    the format or extension the config says."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Data")
    for i, row in enumerate([["Nama", "Umur"], ["Siti", "34"], ["Budi", "2"]]):
        for j, value in enumerate(row):
            sheet.write(i, j, value)
    book.save(str(tmp_path / "export.xls"))
    df = ingest.read_file(tmp_path / "export.xls", InputFile(path="export.xls", format="xlsx"))
    assert df["Umur"].tolist() == ["34", "2"] and df["source_row"].tolist() == [2, 3]


def test_xlsx_is_read_with_calamine_as_openpyxl_reads_it(tmp_path, monkeypatch):
    """.xlsx exports go through the calamine engine (about 10x faster); every cell reads as
    openpyxl reads it (numbers, dates, blanks, Indonesian text), except Excel's escaped carriage
    return, which calamine decodes and cleaning turns into the same space."""
    import datetime as dtm

    from openpyxl import Workbook

    from pipelines import parse, xlsform

    wb = Workbook()
    ws = wb.active
    ws.title = "Jawaban"
    ws.append(["Timestamp", "Umur", "Skor", "Nama perpustakaan", "Saran"])
    ws.append(
        [dtm.datetime(2026, 3, 4, 9, 15), 34, 4.5, "Perpustakaan Kota", "Bagus_x000D_\nsekali"]
    )
    ws.append([dtm.datetime(2026, 3, 5, 0, 0), 2, None, "Pojok Baca Ceria", ""])
    ws.append([None, "tiga puluh", 3, "Taman Bacaan Masyarakat", "  spasi  "])
    path = tmp_path / "export.xlsx"
    wb.save(path)
    assert xlsform.excel_engine(path) == "calamine"
    spec = InputFile(path="export.xlsx", format="xlsx")
    fast = ingest.read_file(path, spec)
    monkeypatch.setattr(xlsform, "_has_calamine", lambda: False)
    assert xlsform.excel_engine(path) == "openpyxl"
    slow = ingest.read_file(path, spec)
    assert list(fast.columns) == list(slow.columns)
    assert fast["Umur"].tolist() == slow["Umur"].tolist() == ["34", "2", "tiga puluh"]
    for col in ("Timestamp", "Skor", "Nama perpustakaan", "source_row"):
        assert fast[col].tolist() == slow[col].tolist(), col
    assert fast["Saran"].tolist()[1:] == slow["Saran"].tolist()[1:]
    assert fast["Saran"][0] == "Bagus\r\nsekali" and slow["Saran"][0] == "Bagus_x000D_\nsekali"
    cleaned = parse.normalise_text(pd.Series([fast["Saran"][0], slow["Saran"][0]])).tolist()
    assert cleaned[0] == cleaned[1] == "Bagus sekali"
