"""The bad-input corpus: what staff will really feed Dampak, and exactly what must happen.

Every case in CASES builds its input at test time from the generated `small_survey` files (one
wave, so it stays fast), runs the real command line in-process (`python -m pipelines check`,
which reads and cleans exactly as the `ingest` and `clean` stages do, writing nothing) and checks
the outcome:

- ``Fail(code, fragments)``: that exit code and ONE line on stderr starting ``ERROR:`` that
  contains every fragment (file, row, column, what to do), never a traceback;
- ``Ok(rules, out, check)``: exit 0, the cleaning log's rows for ``rules`` (rule, column) ->
  values touched, the warning lines in ``out`` on stdout, and an optional extra ``check``.

Messages are in the config's `messages_language` (the sample config says `id`, so most fragments
are Indonesian; the `*_en` cases switch to English). A few cases also run through
`python -m pipelines run` in a subprocess (test_bad_inputs_through_the_real_run), and
tests/test_interrupted_runs.py kills and races real runs.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from helpers import write_config

from pipelines import privacy
from pipelines.__main__ import main
from pipelines.errors import set_language

WAVE = "2025"
CSV = f"solok_{WAVE}.csv"
XLSX = f"solok_{WAVE}.xlsx"
SITE_COL = "Perpustakaan yang paling sering Anda kunjungi"
KEL_COL = "Kelurahan tempat tinggal"
LIKERT_COL = "Saya mampu menggunakan internet untuk mencari informasi yang saya butuhkan"
SESSIONS_COL = "Berapa kali Anda hadir dalam kegiatan tersebut?"
FEEDBACK_COL = "Ceritakan manfaat atau saran Anda untuk perpustakaan"


# --- outcomes --------------------------------------------------------------------------------


@dataclasses.dataclass
class Fail:
    fragments: list[str]
    code: int = 2


@dataclasses.dataclass
class Ok:
    rules: dict[tuple[str, str | None], int] = dataclasses.field(default_factory=dict)
    out: list[str] = dataclasses.field(default_factory=list)
    check: Callable[[Path, pd.DataFrame], None] | None = None


@dataclasses.dataclass
class Case:
    name: str
    build: Callable[[Path], dict | None]  # writes files into the folder; returns config changes
    expect: Fail | Ok
    fmt: str = "csv"
    config: Callable[[Path], Path] | None = None  # replaces the generated config entirely


# --- mutations: small functions on a copy of the generated wave --------------------------------


def _frame(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / CSV, dtype=str, keep_default_na=False)


def _save(df: pd.DataFrame, folder: Path, **kw) -> None:
    df.to_csv(folder / CSV, index=False, **kw)


def edit(fn: Callable[[pd.DataFrame], pd.DataFrame | None], **save_kw):
    """A mutation that edits the answers as a table and saves them as CSV again."""

    def build(folder: Path):
        df = _frame(folder)
        out = fn(df)
        _save(df if out is None else out, folder, **save_kw)

    return build


def raw_bytes(fn: Callable[[bytes], bytes], name: str = CSV):
    def build(folder: Path):
        p = folder / name
        p.write_bytes(fn(p.read_bytes()))

    return build


def cfg(**changes):
    """Only config changes: the data stay as generated."""
    return lambda folder: changes


def file_spec(**spec):
    """Change the wave's file entry (format, sheet, delimiter, encoding, path...)."""

    def build(folder: Path):
        entry = {"path": CSV, "format": "csv", **spec}
        return {"waves": [_wave(entry)]}

    return build


def _wave(entry: dict) -> dict:
    return {
        "id": WAVE,
        "label": {"id": "Gelombang 1", "en": "Wave 1"},
        "reference_date": "2025-03-31",
        "files": [entry],
    }


def both(*builds):
    def build(folder: Path):
        changes = {}
        for b in builds:
            changes.update(b(folder) or {})
        return changes

    return build


def set_cells(col: str, values: list[str], rows=None):
    def fn(df):
        idx = list(range(len(values))) if rows is None else rows
        for i, v in zip(idx, values, strict=True):
            df.loc[i, col] = v
        return df

    return fn


def set_column(col: str, value: str):
    def fn(df):
        df[col] = value
        return df

    return fn


def truncate_mid_row(data: bytes) -> bytes:
    cut = int(len(data) * 0.6)
    while data[cut : cut + 1] in (b"\n", b",", b'"'):
        cut += 1
    return data[:cut]


def unterminated_quote(data: bytes) -> bytes:
    return data + b'2025-03-31 10:00:00,Ya,"Budi bilang, perpus'


def extra_field_row(df: pd.DataFrame) -> str:
    text = df.to_csv(index=False)
    lines = text.splitlines()
    lines[6] = lines[6] + ",tambahan,lagi"
    return "\n".join(lines) + "\n"


def write_text(fn, encoding="utf-8"):
    def build(folder: Path):
        (folder / CSV).write_bytes(fn(_frame(folder)).encode(encoding))

    return build


def with_accents(df: pd.DataFrame) -> str:
    df.loc[:5, FEEDBACK_COL] = "Café dan ruang baca sangat membantu, terima kasih"
    return df.to_csv(index=False)


def header_only(data: bytes) -> bytes:
    return data.split(b"\n", 1)[0] + b"\n"


def all_blank(df: pd.DataFrame) -> pd.DataFrame:
    for c in df.columns:
        df[c] = ""
    return df


def blank_rows_below(df: pd.DataFrame) -> pd.DataFrame:
    blank = pd.DataFrame("", index=range(20), columns=df.columns)
    return pd.concat([df, blank], ignore_index=True)


def duplicate_header(df: pd.DataFrame) -> str:
    text = df.to_csv(index=False)
    head, body = text.split("\n", 1)
    return head.replace("Tahun lahir", "Jenis kelamin") + "\n" + body


def huge_sparse_file(folder: Path) -> None:
    """A 200 MB file without writing 200 MB: the size guard must refuse it before reading."""
    p = folder / CSV
    with open(p, "r+b") as fh:
        fh.truncate(200 * 1024 * 1024)


def xlsx_title_row(folder: Path) -> dict:
    df = pd.read_excel(folder / XLSX, dtype=str, sheet_name=0)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Form Responses 1"
    ws.append(["Rekap Survei TPBIS Kota Solok 2025"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(df.columns))
    ws.append(list(df.columns))
    for row in df.itertuples(index=False):
        ws.append(["" if pd.isna(v) else v for v in row])
    wb.save(folder / XLSX)
    return {}


def xlsx_merged_header_cells(folder: Path) -> dict:
    wb = openpyxl.load_workbook(folder / XLSX)
    ws = wb.worksheets[0]
    heads = [c.value for c in ws[1]]
    i = heads.index("Jenis kelamin") + 1
    ws.merge_cells(start_row=1, start_column=i, end_row=1, end_column=i + 1)  # over "Tahun lahir"
    wb.save(folder / XLSX)
    return {}


def xlsx_spec(**spec):
    return file_spec(path=XLSX, format="xlsx", **spec)


WEIGHTS_FILE = {
    "strata": "kecamatan",
    "cluster": "site",
    "weights": {"method": "file", "path": "bobot.csv", "key": "kelurahan", "column": "bobot"},
}


def weights_file(drop: str | None, bad: str | None = None):
    """A weights file per kelurahan as a statistics office sends it (';', decimal commas)."""

    def build(folder: Path):
        from pipelines.config import load_config

        kel = load_config(write_config(folder, waves=(WAVE,)), check_files=False).kelurahan
        rows = [
            f"{k};{'nol' if k == bad else f'{0.5 + i / 10:.2f}'.replace('.', ',')}"
            for i, k in enumerate(kel)
            if k != drop
        ]
        (folder / "bobot.csv").write_text("kelurahan;bobot\n" + "\n".join(rows) + "\n")

    return build


def damaged_config(text: str):
    def make(folder: Path) -> Path:
        p = folder / "survey.yaml"
        p.write_text(text)
        return p

    return make


def config_with(mutate: Callable[[dict], None]):
    def make(folder: Path) -> Path:
        p = write_config(folder, "csv", survey_id="bad", waves=(WAVE,))
        data = yaml.safe_load(p.read_text())
        mutate(data)
        p.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
        return p

    return make


def _set(path: str, value):
    def mutate(data):
        *parents, last = path.split(".")
        node = data
        for k in parents:
            node = node[int(k)] if k.isdigit() else node[k]
        node[last] = value

    return mutate


def four_point_form(df: pd.DataFrame) -> pd.DataFrame:
    """Every 5-point agreement item answered on a 4-point form: no neutral answer anywhere."""
    from pipelines import parse
    from pipelines.codebook import load_codebook

    for v in load_codebook("tpbis").by_type("likert"):
        if v.question.id in df:
            col = df[v.question.id]
            df.loc[parse.likert(col).values.eq(3).fillna(False).to_numpy(bool), v.question.id] = (
                "Setuju"
            )
    return df


def codebook_with_4_point_items(folder: Path) -> dict:
    """The bundled codebook with its 5-point items declared on the 4-point set."""
    from pipelines.codebook import INSTRUMENTS

    text = (INSTRUMENTS / "tpbis.yaml").read_text(encoding="utf-8")
    (folder / "cb4.yaml").write_text(text.replace("labels: agree5", "labels: agree4"))
    return {"instrument": "cb4.yaml"}


# --- extra checks ----------------------------------------------------------------------------


def _ingested(folder: Path, cfg_path: Path) -> pd.DataFrame:
    from pipelines import ingest
    from pipelines.codebook import load_codebook
    from pipelines.config import load_config

    c = load_config(cfg_path)
    cb = load_codebook(c.instrument, c.base_dir)
    secret = privacy.load_or_create_secret(privacy.default_secret_path())
    return ingest.ingest_wave(c, cb, c.waves[0], secret)


def names_masked(folder: Path, log: pd.DataFrame) -> None:
    got = _ingested(folder, folder / "bad.yaml")
    raw = _frame(folder)
    text = " ".join(got.data["feedback"].dropna())
    for name in raw["Nama lengkap"].head(5):
        assert name not in text
    assert text.count("[NAMA]") >= 5
    assert "081234567890" not in text and "[TELEPON]" in text
    assert got.log["masked_in_free_text"].iloc[0] >= 6


def kept_as_text(folder: Path, log: pd.DataFrame) -> None:
    got = _ingested(folder, folder / "bad.yaml").data
    assert "<script>alert('x')</script>" in set(got["feedback"])  # stored as text, not run


def example_masked(folder: Path, log: pd.DataFrame) -> None:
    ex = " ".join(log["examples"].dropna().astype(str))
    assert "3273010101900001" not in ex and "[NIK]" in ex


def blank_rows_not_respondents(folder: Path, log: pd.DataFrame) -> None:
    rows_in = log[log["rule"] == "rows_in"]["rows_touched"].iloc[0]
    assert rows_in == 300


def likert_examples(folder: Path, log: pd.DataFrame) -> None:
    row = log[(log["rule"] == "likert_out_of_scale") & (log["column"] == "skill_1")]
    assert '"Sangat mantap"' in row["examples"].iloc[0]


NAMES = "Saya {} sangat terbantu. Hubungi 081234567890"

# --- the corpus ------------------------------------------------------------------------------

CASES: list[Case] = [
    # files that are empty, cut off, binary or not what the config says
    Case("empty_file", raw_bytes(lambda b: b""), Fail([CSV, "berkas kosong", "unduh ulang"])),
    Case("only_blank_lines", raw_bytes(lambda b: b"\n \n\n"), Fail([CSV, "berkas kosong"])),
    Case("header_only", raw_bytes(header_only), Fail([CSV, "hanya berisi judul kolom"])),
    Case(
        "binary_garbage",
        raw_bytes(lambda b: bytes(range(256)) * 40),
        Fail([CSV, "bukan berkas teks (CSV)", "ekspor ulang"]),
    ),
    Case(
        "truncated_mid_row",
        raw_bytes(truncate_mid_row),
        Fail([CSV, "baris 1", "terpotong", "unduh ulang"]),
    ),
    Case(
        "truncated_inside_quoted_answer",
        raw_bytes(unterminated_quote),
        Fail([CSV, "terpotong", "unduh ulang"]),
    ),
    Case(
        "row_with_extra_fields",
        write_text(extra_field_row),
        Fail([CSV, "baris 7", "kolom lebih banyak"]),
    ),
    Case(
        "xlsx_named_csv_in_config",
        both(lambda f: shutil.copy(f / XLSX, f / CSV) and None),
        Fail([CSV, "format: xlsx"]),
    ),
    Case("csv_declared_xlsx", file_spec(format="xlsx"), Fail([CSV, "format: csv"])),
    Case(
        "truncated_xlsx",
        both(raw_bytes(lambda b: b[: len(b) // 2], XLSX), xlsx_spec(sheet="Form Responses 1")),
        Fail([XLSX, "rusak atau unduhan tidak lengkap"]),
    ),
    Case(
        "truncated_sav",
        both(
            raw_bytes(lambda b: b[:300], f"solok_{WAVE}.sav"),
            file_spec(path=f"solok_{WAVE}.sav", format="sav"),
        ),
        Fail([f"solok_{WAVE}.sav", "bukan berkas SAV yang bisa dibaca"]),
    ),
    Case(
        "file_of_200_mb",
        huge_sparse_file,
        Fail([CSV, "210 MB", "100 MB", "satu berkas per perpustakaan"]),
    ),
    # delimiters and encodings
    Case("semicolon_delimiter", edit(lambda df: None, sep=";"), Ok({("rows_in", None): 300})),
    Case("tab_delimiter", edit(lambda df: None, sep="\t"), Ok({("rows_in", None): 300})),
    Case(
        "wrong_delimiter_in_config",
        both(edit(lambda df: None, sep=";"), file_spec(delimiter=",")),
        Fail([CSV, "kolom dipisah dengan ';'", "'delimiter: \";\"'"]),
    ),
    Case("windows_1252_encoding", write_text(with_accents, "cp1252"), Ok({("rows_in", None): 300})),
    Case("utf16_unicode_text", write_text(with_accents, "utf-16"), Ok({("rows_in", None): 300})),
    Case("utf8_with_bom", write_text(with_accents, "utf-8-sig"), Ok({("rows_in", None): 300})),
    Case(
        "wrong_encoding_in_config",
        both(write_text(with_accents, "cp1252"), file_spec(encoding="utf-8")),
        Fail([CSV, "pengodean utf-8", "CSV UTF-8"]),
    ),
    Case(
        "unknown_encoding_name_in_config",
        file_spec(encoding="jawa-kuno"),
        Fail([CSV, "'encoding: jawa-kuno'", "utf-8"]),
    ),
    # headers
    Case(
        "required_column_missing",
        edit(lambda df: df.drop(columns=["Jenis kelamin"])),
        Fail([CSV, '"Jenis kelamin" (gender)', "'columns'"]),
    ),
    Case(
        "required_column_renamed",
        edit(lambda df: df.rename(columns={"Jenis kelamin": "JK responden"})),
        Fail([CSV, '"Jenis kelamin" (gender)', "'columns'"]),
    ),
    Case(
        "renamed_column_mapped_in_config",
        both(
            edit(lambda df: df.rename(columns={"Jenis kelamin": "JK responden"})),
            cfg(columns={"JK responden": "gender"}),
        ),
        Ok({("unknown_category", "gender"): 0}),
    ),
    Case(
        "duplicate_column_names",
        write_text(duplicate_header),
        Fail([CSV, 'kolom "Jenis kelamin"', "dua kolom"]),
    ),
    Case(
        "xlsx_title_row_in_merged_cells",
        both(xlsx_title_row, xlsx_spec(sheet="Form Responses 1")),
        Fail([XLSX, "baris 1 bukan baris judul kolom", "skip_rows: 1"]),
    ),
    Case(
        "xlsx_title_row_with_skip_rows",
        both(xlsx_title_row, xlsx_spec(sheet="Form Responses 1", skip_rows=1)),
        Ok({("rows_in", None): 300}),
    ),
    Case(
        "xlsx_merged_header_cells",
        both(xlsx_merged_header_cells, xlsx_spec(sheet="Form Responses 1")),
        Fail([XLSX, '"Tahun lahir"', "(birth_year)"]),
    ),
    Case(
        "xlsx_wrong_sheet_name",
        xlsx_spec(sheet="Sheet1"),
        Fail([XLSX, "tidak ada sheet 'Sheet1'", "Form Responses 1"]),
    ),
    Case(
        "xlsx_sheet_number_out_of_range",
        xlsx_spec(sheet=4),
        Fail([XLSX, "tidak ada sheet nomor 4"]),
    ),
    # answers
    Case(
        "every_answer_blank",
        edit(all_blank),
        Fail([CSV, "seluruh 300 baris kosong", "unduh ulang"]),
    ),
    Case(
        "blank_rows_below_the_answers",
        edit(blank_rows_below),
        Ok({("rows_in", None): 300}, check=blank_rows_not_respondents),
    ),
    Case(
        "unknown_likert_label",
        edit(set_cells(LIKERT_COL, ["Sangat mantap"] * 5, rows=[10, 11, 12, 13, 14])),
        Ok(
            {("likert_out_of_scale", "skill_1"): 5},
            out=["PERINGATAN: gelombang 2025: 5 jawaban skala setuju", '"Sangat mantap"'],
            check=likert_examples,
        ),
    ),
    Case(
        "four_point_form_read_with_five_point_labels",
        edit(four_point_form),
        Fail([CSV, "label set 'agree5'", "3 = Netral", "tidak pernah dipilih", '"Setuju"']),
    ),
    Case(
        "five_point_form_read_with_four_point_labels",
        codebook_with_4_point_items,
        Fail([CSV, "label set 'agree4'", '"Netral"', "skala yang lebih lebar", "4 = Sangat"]),
    ),
    Case(
        "five_point_form_read_with_four_point_labels_en",
        both(codebook_with_4_point_items, cfg(messages_language="en")),
        Fail([CSV, "(skill_1) and", "4 points", '"Netral"', "belong to a wider scale"]),
    ),
    Case(
        "numeric_column_full_of_text",
        edit(set_column("Tahun lahir", "tiga puluhan")),
        Fail([CSV, "baris 2", '"Tahun lahir" (birth_year)', "bukan angka", '"tiga puluhan"']),
    ),
    Case(
        "a_few_numbers_as_words",
        edit(set_cells(SESSIONS_COL, ["dua kali", "sering", "lupa"], rows=[3, 4, 5])),
        Ok({("not_a_number", "sessions"): 3}, out=["3 jawaban yang seharusnya angka"]),
    ),
    Case(
        "nik_typed_into_a_number_column",
        edit(set_cells(SESSIONS_COL, ["3273010101900001"], rows=[3])),
        Ok({("impossible_value", "sessions"): 1}, check=example_masked),
    ),
    Case(
        "dates_in_unknown_format",
        edit(set_column("Timestamp", "pagi hari ke-5")),
        Fail([CSV, "baris 2", "(submitted_at)", "bukan tanggal", '"pagi hari ke-5"', "31/03/2025"]),
    ),
    Case(
        "nobody_consented",
        edit(
            set_column(
                "Saya bersedia mengisi survei ini dan mengizinkan jawaban saya diolah secara anonim",
                "Tidak",
            )
        ),
        Fail([CSV, "tidak satu pun dari 300 baris menyatakan setuju"]),
    ),
    # places
    Case(
        "a_site_the_config_does_not_list",
        edit(set_cells(SITE_COL, ["Perpustakaan Bulan Sabit"] * 7, rows=list(range(20, 27)))),
        Ok(
            {("match_site_unmatched", "site"): 7},
            out=["PERINGATAN: gelombang 2025: 7 baris", "Bulan Sabit", "'sites'"],
        ),
    ),
    Case(
        "most_sites_not_in_the_config",
        edit(set_column(SITE_COL, "Perpustakaan Kabupaten Solok")),
        Fail([CSV, 'kolom "site"', "Perpustakaan Kabupaten Solok", "tambahkan ke sites"]),
    ),
    Case(
        "most_kelurahan_not_in_the_config",
        edit(set_column(KEL_COL, "Nagari Koto Baru")),
        Fail([CSV, 'kolom "kelurahan"', "Nagari Koto Baru", "places.kecamatan"]),
    ),
    # hostile or personal free text
    Case(
        "phone_number_typed_as_kelurahan",
        edit(set_cells(KEL_COL, ["0812-3456-7890"], rows=[8])),
        Ok({("match_kelurahan_unmatched", "kelurahan"): 3}, out=['"[TELEPON]"']),
    ),
    Case(
        "formula_injection_cells",
        edit(
            set_cells(FEEDBACK_COL, ['=HYPERLINK("http://x","klik")', "+62 1", "-1+2", "@SUM(A1)"])
        ),
        Ok({("rows_in", None): 300}),
    ),
    Case(
        "script_and_html_in_free_text",
        edit(set_cells(FEEDBACK_COL, ["<script>alert('x')</script>", "<b>bagus</b> &amp;"])),
        Ok({("rows_in", None): 300}, check=kept_as_text),
    ),
    Case(
        "respondent_names_in_free_text",
        edit(
            lambda df: df.assign(
                **{
                    FEEDBACK_COL: [
                        NAMES.format(n) if i < 5 else v
                        for i, (n, v) in enumerate(
                            zip(df["Nama lengkap"], df[FEEDBACK_COL], strict=True)
                        )
                    ]
                }
            )
        ),
        Ok({("rows_in", None): 300}, check=names_masked),
    ),
    # the config
    Case(
        "config_typo_key",
        cfg(),
        Fail(["bad.yaml", "unknown key 'sitess'", "did you mean 'sites'"]),
        config=config_with(lambda d: d.update(sitess=d.pop("sites"))),
    ),
    Case(
        "config_last_years_key",
        cfg(),
        Fail(["bad.yaml", "unknown key 'bahasa'"]),
        config=config_with(_set("bahasa", "id")),
    ),
    Case(
        "config_wrong_type",
        cfg(report={"suppression_threshold": "sepuluh"}),
        Fail(["bad.yaml", "report.suppression_threshold", "'sepuluh'"]),
    ),
    Case(
        "config_wrong_date",
        cfg(),
        Fail(["bad.yaml", "waves.0.reference_date"]),
        config=config_with(_set("waves.0.reference_date", "31 Maret 2025")),
    ),
    Case(
        "config_old_excel_format",
        file_spec(format="xls"),
        Fail(["bad.yaml", "waves.0.files.0.format", "'xls'"]),
    ),
    Case(
        "config_missing_raw_file",
        file_spec(path="solok_2025_final_v2.csv"),
        Fail(["bad.yaml", "solok_2025_final_v2.csv", "tidak ditemukan"]),
    ),
    Case(
        "config_path_outside_the_project",
        file_spec(path="../../../etc/passwd"),
        Fail(["bad.yaml", "../../../etc/passwd", "di luar folder survei"]),
    ),
    Case(
        "config_site_in_unknown_kecamatan",
        cfg(),
        Fail(["bad.yaml", "site 'kota'", "Tanjung Harap"]),
        config=config_with(_set("sites.0.kecamatan", "Tanjung Harap")),
    ),
    Case(
        "delimiter_in_config_but_no_delimiters",
        both(raw_bytes(lambda b: b.replace(b",", b" ")), file_spec(delimiter=",")),
        Fail([CSV, "hanya satu kolom", "CSV koma"]),
    ),
    Case(
        "config_file_does_not_exist",
        cfg(),
        Fail(["nope.yaml", "does not exist"]),
        config=lambda folder: folder / "nope.yaml",
    ),
    Case(
        "config_not_yaml",
        cfg(),
        Fail(["survey.yaml", "not valid YAML near line 2"]),
        config=damaged_config("survey:\n\tid: x\n"),
    ),
    Case(
        "config_extends_a_missing_file",
        cfg(),
        Fail(["tahun_lalu.yaml", "does not exist"]),
        config=damaged_config("extends: tahun_lalu.yaml\n"),
    ),
    Case(
        "config_is_a_list",
        cfg(),
        Fail(["survey.yaml", "must be a YAML mapping"]),
        config=damaged_config("- survey\n- waves\n"),
    ),
    Case(
        "messages_in_english_en",
        both(raw_bytes(lambda b: b""), cfg(messages_language="en")),
        Fail([f"In file {CSV}", "the file is empty; download the export again."]),
    ),
    # --- issue 12: real export shapes ---------------------------------------------------------
    Case(
        "kobo_times_with_short_utc_offsets",
        edit(
            set_cells(
                "Timestamp",
                ["2025-03-07T09:20:54.819+03", "2025-03-07T09:21:00+0700", "2025-03-07T02:21:00Z"],
            )
        ),
        Ok({("parse_submitted_at", "submitted_at"): 0}),
    ),
    Case(
        "weights_file_with_decimal_commas",
        both(weights_file(drop=None), cfg(design=WEIGHTS_FILE)),
        Ok(out=["weights from bobot.csv by kelurahan"]),
    ),
    Case(
        "weights_file_without_a_kelurahan",
        both(weights_file(drop="Laing"), cfg(design=WEIGHTS_FILE)),
        Fail(["berkas bobot.csv", 'kolom "kelurahan"', "'Laing'", "unmatched: mean"]),
    ),
    Case(
        "weights_file_with_a_broken_weight",
        both(weights_file(drop=None, bad="KTK"), cfg(design=WEIGHTS_FILE)),
        Fail(["berkas bobot.csv", "baris", 'kolom "bobot"', "'nol'", "koma desimal"]),
    ),
    Case(
        "site_in_english_en",
        both(
            edit(set_cells(SITE_COL, ["Perpustakaan Bulan Sabit"] * 2, rows=[1, 2])),
            cfg(messages_language="en"),
        ),
        Ok(
            {("match_site_unmatched", "site"): 2},
            out=["WARNING: wave 2025: 2 row(s) name a site the config does not list"],
        ),
    ),
]


def _setup(case: Case, survey: Path, folder: Path) -> Path:
    for name in (CSV, XLSX, f"solok_{WAVE}.sav"):
        shutil.copy(survey / name, folder / name)
    changes = case.build(folder) or {}
    if case.config is not None:
        return case.config(folder)
    waves = changes.pop("waves", None)
    path = write_config(folder, case.fmt, survey_id="bad", waves=(WAVE,), **changes)
    if waves is not None:
        data = yaml.safe_load(path.read_text())
        data["waves"] = waves
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


def _run_check(cfg_path: Path, log: Path, capsys) -> tuple[int, str, str]:
    set_language("en")  # a fresh process: nothing known until the config is read
    code = main(["check", str(cfg_path), "--log", str(log)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_corpus_is_big_and_named_uniquely():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)) and len(names) >= 40


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_input(case: Case, small_survey, tmp_path, capsys):
    folder = tmp_path / "survey"
    folder.mkdir()
    cfg_path = _setup(case, small_survey, folder)
    before = {p.name: p.read_bytes() for p in folder.glob("solok_*") if p.stat().st_size < 1e7}
    code, out, err = _run_check(cfg_path, tmp_path / "log.csv", capsys)
    assert "Traceback" not in out + err
    if isinstance(case.expect, Fail):
        lines = err.strip().splitlines()
        assert code == case.expect.code, err
        assert len(lines) == 1 and lines[0].startswith("ERROR: "), err
        for fragment in case.expect.fragments:
            assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    else:
        assert code == 0, err
        assert err == ""
        log = pd.read_csv(tmp_path / "log.csv", dtype={"wave": str})
        for (rule, column), n in case.expect.rules.items():
            rows = log[(log["rule"] == rule) & ((log["column"] == column) | (column is None))]
            assert len(rows), rule
            assert int(rows["values_touched"].sum()) == n, (rule, column, rows)
        for fragment in case.expect.out:
            assert fragment in out, f"{fragment!r} not in {out!r}"
        if case.expect.check:
            case.expect.check(folder, log)
    after = {p.name: p.read_bytes() for p in folder.glob("solok_*") if p.name in before}
    assert after == before  # raw files are only ever read


def test_a_damaged_pseudonym_key_is_a_sentence(small_survey, tmp_path, capsys, monkeypatch):
    key = tmp_path / "pseudonym.key"
    key.write_bytes(b"short")
    monkeypatch.setenv("DAMPAK_SECRET_FILE", str(key))
    folder = tmp_path / "survey"
    folder.mkdir()
    shutil.copy(small_survey / CSV, folder / CSV)
    code, _, err = _run_check(write_config(folder, "csv", "bad", (WAVE,)), tmp_path / "l", capsys)
    assert code == 2 and err.startswith("ERROR: ") and "pseudonym.key" in err
    assert "damaged" in err and len(err.strip().splitlines()) == 1


def test_an_unknown_stage_is_a_sentence(small_survey, tmp_path, capsys):
    folder = tmp_path / "survey"
    folder.mkdir()
    shutil.copy(small_survey / CSV, folder / CSV)
    cfg_path = write_config(folder, "csv", "bad", (WAVE,))
    set_language("en")
    code = main(["run", str(cfg_path), "--stage", "ingest,analyze", "--out-root", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("ERROR: ") and "analyze" in err and "analyse" in err
