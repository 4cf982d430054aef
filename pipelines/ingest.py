"""Ingest: read a wave's raw exports as text, map headers to codebook variables, and strip
personal data at the door (keyed pseudonym, masked free text), so nothing personal goes further.

Raw files are opened read-only and never written. Every row keeps its source file and row number.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines import privacy
from pipelines.codebook import Codebook, header_key
from pipelines.config import InputFile, SurveyConfig, Wave
from pipelines.errors import InputError

ENCODINGS = ("utf-8-sig", "cp1252")
DELIMITERS = ",;\t|"
META = ["wave", "source_file", "source_row", "respondent_key", "key_source"]


def _fail(path: Path, en: str, idn: str, row=None, column=None) -> InputError:
    en_loc, id_loc = _loc(path, row, column)
    return InputError(f"{en_loc}: {en}", id_text=f"{id_loc}: {idn}")


def _loc(path, row, column):
    en, idn = f"In file {Path(path).name}", f"Di berkas {Path(path).name}"
    if row is not None:
        en, idn = en + f", row {row}", idn + f", baris {row}"
    if column is not None:
        en, idn = en + f', column "{column}"', idn + f', kolom "{column}"'
    return en, idn


# --- readers: each returns (frame of strings, number of the spreadsheet row of frame row 0) -----


def _decode(path: Path, raw: bytes, encoding: str | None) -> str:
    if b"\x00" in raw[:4096]:
        raise _fail(
            path,
            "this is not a text (CSV) file; export the survey again as CSV.",
            "ini bukan berkas teks (CSV); ekspor ulang survei sebagai CSV.",
        )
    for enc in [encoding] if encoding else ENCODINGS:
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise _fail(
        path,
        "the text encoding is unknown; save it as UTF-8 CSV.",
        "pengodean teks tidak dikenal; simpan sebagai CSV UTF-8.",
    )


def read_csv(path: Path, spec: InputFile) -> tuple[pd.DataFrame, int]:
    raw = path.read_bytes()
    if not raw.strip():
        raise _fail(
            path,
            "the file is empty; download the export again.",
            "berkas kosong; unduh ulang hasil ekspor.",
        )
    text = _decode(path, raw, spec.encoding)
    first = text.splitlines()[0] if text else ""
    delim = spec.delimiter or max(DELIMITERS, key=first.count)
    try:
        df = pd.read_csv(
            io.StringIO(text),
            sep=delim,
            dtype=str,
            keep_default_na=False,
            na_values=[],
            skiprows=spec.skip_rows,
            header=list(range(spec.header_rows)) if spec.header_rows > 1 else 0,
            engine="c",
        )
    except pd.errors.ParserError as e:
        row = _parser_row(str(e))
        raise _fail(
            path,
            "a row has more fields than the header (the file may be cut off or "
            "use another delimiter); export it again.",
            "ada baris dengan kolom lebih banyak dari judul (berkas terpotong atau "
            "pemisahnya lain); ekspor ulang.",
            row=row,
        ) from None
    except csv.Error as e:
        raise _fail(
            path, f"the CSV is malformed ({e}); export it again.", f"CSV rusak ({e}); ekspor ulang."
        ) from None
    if spec.header_rows > 1:
        df.columns = _join_two_row_header(df.columns)
    return df, spec.skip_rows + spec.header_rows + 1


def _parser_row(msg: str) -> int | None:
    import re

    m = re.search(r"line (\d+)", msg)
    return int(m.group(1)) if m else None


def _join_two_row_header(cols) -> list[str]:
    """SurveyMonkey-style two-row headers: question on row 1 (merged), option on row 2."""
    out, last = [], ""
    for top, sub in cols:
        top = "" if str(top).startswith("Unnamed") else str(top)
        sub = "" if str(sub).startswith("Unnamed") else str(sub)
        last = top or last
        generic = sub.casefold() in ("", "response", "open-ended response", "jawaban")
        out.append(last if generic else f"{last} - {sub}")
    return out


def read_xlsx(path: Path, spec: InputFile) -> tuple[pd.DataFrame, int]:
    try:
        xl = pd.ExcelFile(path, engine="openpyxl")
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise _fail(
            path,
            "this is not a readable Excel (.xlsx) file; save it again from Excel.",
            "ini bukan berkas Excel (.xlsx) yang bisa dibaca; simpan ulang dari Excel.",
        ) from None
    sheet = spec.sheet if spec.sheet is not None else 0
    if isinstance(sheet, str) and sheet not in xl.sheet_names:
        raise _fail(
            path,
            f"there is no sheet '{sheet}' (sheets: {', '.join(xl.sheet_names)}).",
            f"tidak ada sheet '{sheet}' (sheet: {', '.join(xl.sheet_names)}).",
        )
    header = list(range(spec.header_rows)) if spec.header_rows > 1 else 0
    df = pd.read_excel(
        xl, sheet, header=header, dtype=str, skiprows=spec.skip_rows, na_filter=False
    )
    if spec.header_rows > 1:
        df.columns = _join_two_row_header(df.columns)
    return df, spec.skip_rows + spec.header_rows + 1


def read_stat(path: Path, spec: InputFile) -> tuple[pd.DataFrame, int]:
    """SPSS .sav / Stata .dta with value labels applied, as text."""
    import pyreadstat

    reader = pyreadstat.read_sav if spec.format == "sav" else pyreadstat.read_dta
    try:
        df, meta = reader(str(path), apply_value_formats=True)
    except Exception:  # noqa: BLE001 - pyreadstat raises its own ReadstatError types
        raise _fail(
            path,
            f"this is not a readable {spec.format.upper()} file; export it again.",
            f"ini bukan berkas {spec.format.upper()} yang bisa dibaca; ekspor ulang.",
        ) from None
    labels = meta.column_names_to_labels or {}
    df.columns = [labels.get(c) or c for c in df.columns]
    return df.apply(_to_text), 1


def _to_text(col: pd.Series) -> pd.Series:
    if col.dtype == object:
        return col.where(col.notna(), "").astype(str)
    if pd.api.types.is_float_dtype(col):
        whole = col.dropna().mod(1).eq(0).all()
        txt = col.map(lambda v: "" if pd.isna(v) else (f"{v:.0f}" if whole else repr(v)))
        return txt.astype(object)
    return col.astype(str).replace({"NaT": "", "nan": ""})


READERS = {"csv": read_csv, "kobo": read_csv, "xlsx": read_xlsx, "sav": read_stat, "dta": read_stat}


def read_file(path: Path, spec: InputFile) -> pd.DataFrame:
    """Read one export as text with its source file and spreadsheet row number."""
    if spec.format == "kobo" and path.suffix.lower() == ".xlsx":
        df, first_row = read_xlsx(path, spec)
    else:
        df, first_row = READERS[spec.format](path, spec)
    dupes = [
        c
        for c in df.columns
        if str(c).rsplit(".", 1)[0] in df.columns
        and "." in str(c)
        and str(c).rsplit(".", 1)[1].isdigit()
    ]
    if dupes:
        raise _fail(
            path,
            "two columns have the same header; rename one of them in the export.",
            "dua kolom memiliki judul yang sama; ganti nama salah satunya.",
            column=dupes[0].rsplit(".", 1)[0],
        )
    if df.empty:
        raise _fail(
            path,
            "the file has a header but no answers.",
            "berkas hanya berisi judul kolom tanpa jawaban.",
        )
    df = df.astype(object).where(df.notna(), "")
    df.insert(0, "source_row", np.arange(len(df)) + first_row)
    df.insert(0, "source_file", path.name)
    return df


# --- header mapping ----------------------------------------------------------------------------


@dataclass
class Mapping:
    columns: dict[str, str]  # raw header -> variable
    unmatched: list[str] = field(default_factory=list)


def map_headers(headers: list[str], cb: Codebook, overrides: dict[str, str]) -> Mapping:
    """Match raw headers to variables: config overrides, then question text, then aliases."""
    lookup: dict[str, str] = {}
    for v in cb.variables:
        for text in [v.name, *v.aliases, v.question.id, v.question.en]:
            lookup.setdefault(header_key(text), v.name)
    over = {header_key(k): v for k, v in overrides.items()}
    out, unmatched = {}, []
    for h in headers:
        if h in ("source_file", "source_row"):
            continue
        var = overrides.get(h) or over.get(header_key(h)) or lookup.get(header_key(h))
        if var is None or var in out.values():
            unmatched.append(h)
        else:
            out[h] = var
    return Mapping(out, unmatched)


# --- personal data -----------------------------------------------------------------------------


def respondent_keys(df: pd.DataFrame, secret: bytes) -> tuple[pd.Series, pd.Series]:
    """A keyed pseudonym per row from NIK, else phone, else email; a row with none gets none."""
    key = pd.Series(np.nan, index=df.index, dtype=object)
    source = pd.Series("none", index=df.index, dtype=object)
    for col, clean in (("nik", _digits), ("phone", _phone), ("email", _lower)):
        if col not in df:
            continue
        vals = clean(df[col])
        use = key.isna() & vals.notna()
        if use.any():
            key[use] = privacy.pseudonymise(vals[use], secret, prefix=col[0].upper())
            source[use] = col
    return key, source


def _digits(s: pd.Series) -> pd.Series:
    d = s.astype(str).str.replace(r"\D", "", regex=True)
    return d.where(d.str.len() == 16)


def _phone(s: pd.Series) -> pd.Series:
    d = s.astype(str).str.replace(r"\D", "", regex=True).str.replace(r"^62", "0", regex=True)
    return d.where(d.str.len().between(10, 13))


def _lower(s: pd.Series) -> pd.Series:
    e = s.astype(str).str.strip().str.lower()
    return e.where(e.str.contains("@", regex=False))


@dataclass
class Ingested:
    data: pd.DataFrame
    log: pd.DataFrame
    fingerprints: set[str]


def ingest_wave(cfg: SurveyConfig, cb: Codebook, wave: Wave, secret: bytes) -> Ingested:
    """Read every file of a wave, map headers, pseudonymise and drop personal data."""
    frames, log = [], []
    for spec in wave.files:
        path = cfg.base_dir / spec.path
        df = read_file(path, spec)
        mapping = map_headers(list(df.columns), cb, cfg.columns)
        missing = [v for v in cb.variables if v.required and v.name not in mapping.columns.values()]
        if missing:
            v = missing[0]
            raise _fail(
                path,
                f'no column matches the question "{v.question.id}" ({v.name}); add it to '
                f"'columns' in {cfg.source.name} as \"<header in the file>\": {v.name}.",
                f'tidak ada kolom untuk pertanyaan "{v.question.id}" ({v.name}); tambahkan ke '
                f"'columns' di {cfg.source.name} sebagai \"<judul di berkas>\": {v.name}.",
            )
        df = df[["source_file", "source_row", *mapping.columns]].rename(columns=mapping.columns)
        log.append(
            {
                "file": path.name,
                "rows_read": len(df),
                "columns_used": len(mapping.columns),
                "columns_dropped_unknown": len(mapping.unmatched),
                "dropped_headers": "; ".join(mapping.unmatched),
            }
        )
        frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    for v in cb.variables:
        if v.name not in df:
            df[v.name] = ""
    text = df.columns.drop("source_row")
    df[text] = df[text].map(lambda x: x if isinstance(x, str) else ("" if pd.isna(x) else str(x)))
    df["source_row"] = df["source_row"].astype("int64")
    key, source = respondent_keys(df, secret)
    names = df.get("full_name", None)
    fingerprints = privacy.name_fingerprints(names, secret) if names is not None else set()
    masked = {}
    for v in cb.by_type("text"):
        df[v.name], counts = privacy.mask_text(df[v.name], names=names)
        masked.update({f"{v.name}:{k}": n for k, n in counts.items()})
    personal = [v.name for v in cb.personal]
    out = df.drop(columns=[c for c in personal if c in df])
    out.insert(0, "key_source", source.values)
    out.insert(0, "respondent_key", key.values)
    out.insert(0, "wave", wave.id)
    summary = pd.DataFrame(log)
    summary["masked_in_free_text"] = sum(masked.values())
    return Ingested(out.reset_index(drop=True), summary, fingerprints)
