"""Ingest: read a wave's raw exports as text, map headers to codebook variables, and strip
personal data at the door (keyed pseudonym, masked free text), so nothing personal goes further.

Raw files are opened read-only and never written. Every row keeps its source file and row number.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines import multiselect, privacy
from pipelines.codebook import Codebook, header_key
from pipelines.config import InputFile, SurveyConfig, Wave
from pipelines.errors import InputError, Localised, Message, at

ENCODINGS = ("utf-8-sig", "cp1252")
MAX_FILE_MB = 100  # larger exports are refused before reading (env DAMPAK_MAX_FILE_MB overrides)
DELIMITERS = ",;\t|"
META = ["wave", "source_file", "source_row", "respondent_key", "key_source"]
TEXT = multiselect.TEXT_SUFFIX


def _fail(path: Path, name: str, /, row=None, column=None, **fields) -> InputError:
    """'In file X, row R, column "C": <message name>' as an InputError."""
    return InputError(at(Path(path).name, Message(name, **fields), row, column))


# --- readers: each returns (frame of strings, number of the spreadsheet row of frame row 0) -----


def _decode(path: Path, raw: bytes, encoding: str | None) -> str:
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") and not encoding:
        encoding = "utf-16"  # Excel's "Unicode text" export: handled transparently
    elif raw[:4] == b"PK\x03\x04":
        raise _fail(
            path,
            "ingest.xlsx_not_csv",
        )
    elif b"\x00" in raw[:4096]:
        raise _fail(
            path,
            "ingest.not_text",
        )
    for enc in [encoding] if encoding else ENCODINGS:
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
        except LookupError:
            raise _fail(
                path,
                "ingest.unknown_encoding",
                enc=enc,
            ) from None
    raise _fail(
        path,
        "ingest.wrong_encoding",
        encoding=encoding or "UTF-8",
    )


def _read_csv_arrow(
    text: str | memoryview, delim: str, spec: InputFile, header: str
) -> pd.DataFrame | None:
    """The fast path: Arrow's multi-threaded reader, all columns as text. None (use pandas' C
    reader, whose errors name the row) for two-row headers, blank or repeated headers, or any
    row Arrow cannot read."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    names = next(csv.reader([header], delimiter=delim), [])
    if spec.header_rows != 1 or not names or len(set(names)) < len(names) or "" in names:
        return None
    try:
        table = pacsv.read_csv(
            pa.BufferReader(text.encode("utf-8") if isinstance(text, str) else text),
            read_options=pacsv.ReadOptions(skip_rows=spec.skip_rows),
            parse_options=pacsv.ParseOptions(delimiter=delim, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
            ),
        )
    except (pa.ArrowException, ValueError):
        return None
    if table.column_names != names:
        return None
    return table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow", np.nan)}.get)


def _read_csv_pandas(path: Path, text: str, delim: str, spec: InputFile) -> pd.DataFrame:
    """pandas' C reader: slower, but its errors say which row is broken."""
    try:
        return pd.read_csv(
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
        if "EOF" in str(e):
            raise _fail(
                path,
                "ingest.cut_off_in_answer",
                row=row,
            ) from None
        raise _fail(
            path,
            "ingest.too_many_fields",
            row=row,
        ) from None
    except csv.Error as e:
        raise _fail(path, "ingest.malformed_csv", e=e) from None


def read_csv(path: Path, spec: InputFile) -> tuple[pd.DataFrame, int]:
    raw = path.read_bytes()
    if not raw.strip():
        raise _fail(
            path,
            "ingest.empty_file",
        )
    body = _utf8_body(raw, spec.encoding) if len(raw) >= FAST_UTF8_BYTES else None
    ends = _end_lines(body, spec.skip_rows) if body is not None else None
    if ends is None:  # decoded whole: other encodings, small or unusual files
        body = None
        text = _decode(path, raw, spec.encoding)
        lines = text.splitlines()
        first = lines[min(spec.skip_rows, len(lines) - 1)] if lines else ""
        last, ends_newline = (lines[-1] if lines else ""), text.endswith(("\n", "\r"))
    else:  # valid UTF-8 goes to Arrow as it is: no decoded copy of a large file
        first, last = ends
        lines, ends_newline = [first], bytes(body[-1:]) in (b"\n", b"\r")
    delim = spec.delimiter or max(DELIMITERS, key=first.count)
    seen = max(DELIMITERS, key=first.count)
    if spec.delimiter and first.count(seen) > 2 * first.count(delim) + 1:
        raise _fail(
            path,
            "ingest.other_delimiter",
            seen=seen,
            delim=delim,
        )
    df = _read_csv_arrow(text if body is None else body, delim, spec, first)
    if df is None:
        if body is not None:
            text = _decode(path, raw, spec.encoding)
        df = _read_csv_pandas(path, text, delim, spec)
    if len(df.columns) == 1:
        other = max(DELIMITERS, key=first.count)
        hint = Message("ingest.hint_commas")
        if spec.delimiter and first.count(other):
            hint = Message("ingest.hint_delimiter", other=other)
        raise _fail(path, "ingest.one_column", delim=delim, hint=hint)
    first_row = spec.skip_rows + spec.header_rows + 1
    if lines and not ends_newline and len(df):
        fields = next(csv.reader([last], delimiter=delim), [])
        if len(fields) < len(df.columns):
            raise _fail(
                path,
                "ingest.last_row_cut_off",
                row=first_row + len(df) - 1,
            )
    if spec.header_rows > 1:
        df.columns = _join_two_row_header(df.columns)
    return df, first_row


FAST_UTF8_BYTES = 8 << 20  # files this large skip the decoded copy when they are UTF-8
_WINDOW = 1 << 20  # bytes decoded at each end of such a file for its first and last lines


def _utf8_body(raw: bytes, encoding: str | None) -> memoryview | None:
    """The bytes :func:`_decode` would read as UTF-8 (BOM dropped as it would), checked in
    slices; None when it would pick another encoding, fail, or refuse the file."""
    import codecs

    try:
        name = codecs.lookup(encoding or ENCODINGS[0]).name
    except LookupError:
        return None
    if name not in ("utf-8", "utf-8-sig") or raw[:4] == b"PK\x03\x04" or b"\x00" in raw[:4096]:
        return None
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") and not encoding:
        return None
    view = memoryview(raw)
    if name == "utf-8-sig" and raw[:3] == codecs.BOM_UTF8:
        view = view[3:]
    check = codecs.getincrementaldecoder("utf-8")()
    try:
        for i in range(0, len(view), 16 * _WINDOW):
            check.decode(view[i : i + 16 * _WINDOW])
        check.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    return view


def _end_lines(body: memoryview, skip_rows: int) -> tuple[str, str] | None:
    """Line ``skip_rows`` and the last line of valid UTF-8 ``body`` as ``str.splitlines`` gives
    them, decoding only both ends; None if a window holds too few whole lines."""
    if len(body) <= 2 * _WINDOW:
        return None
    head = _decode_slice(body[:_WINDOW])
    tail = _decode_slice(body[-_WINDOW:])
    head_lines, tail_lines = head.splitlines(), tail.splitlines()
    if len(head_lines) <= skip_rows + 1 or len(tail_lines) < 2:
        return None
    return head_lines[skip_rows], tail_lines[-1]


def _decode_slice(chunk: memoryview) -> str:
    """UTF-8 text of a slice of valid UTF-8 cut anywhere: partial characters at the ends go."""
    data = bytes(chunk)
    start = 0
    while start < min(3, len(data)) and 0x80 <= data[start] <= 0xBF:
        start += 1  # continuation bytes of a character that began before the slice
    return data[start:].decode("utf-8", errors="ignore")


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
    from pipelines.xlsform import excel_file

    try:
        xl = excel_file(path)  # .xlsx, or legacy .xls
    except Exception:  # noqa: BLE001 - openpyxl/xlrd raise many kinds for a damaged file
        with open(path, "rb") as fh:
            head = fh.read(4096)
        if head and b"\x00" not in head and not head.startswith(b"PK"):
            raise _fail(
                path,
                "ingest.csv_not_xlsx",
            ) from None
        raise _fail(
            path,
            "ingest.unreadable_xlsx",
        ) from None
    sheet = spec.sheet if spec.sheet is not None else 0
    if isinstance(sheet, int) and not 0 <= sheet < len(xl.sheet_names):
        raise _fail(
            path,
            "ingest.no_sheet_number",
            sheet=sheet,
            sheets=", ".join(xl.sheet_names),
        )
    if isinstance(sheet, str) and sheet not in xl.sheet_names:
        raise _fail(
            path,
            "ingest.no_sheet_named",
            sheet=sheet,
            sheets=", ".join(xl.sheet_names),
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
            "ingest.unreadable_file",
            format=spec.format.upper(),
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
    limit = float(os.environ.get("DAMPAK_MAX_FILE_MB") or MAX_FILE_MB)
    try:
        size_mb = path.stat().st_size / 1e6
        if size_mb > limit:
            raise _fail(
                path,
                "ingest.too_big",
                size_mb=size_mb,
                limit=limit,
            )
        if spec.format == "kobo" and path.suffix.lower() == ".xlsx":
            df, first_row = read_xlsx(path, spec)
        else:
            df, first_row = READERS[spec.format](path, spec)
    except OSError as e:
        raise _fail(
            path,
            "ingest.cannot_open",
            why=e.strerror or e,
        ) from None
    if len(df.columns) == 0:
        raise _fail(
            path,
            "ingest.empty_sheet",
        )
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
            "ingest.same_header",
            column=dupes[0].rsplit(".", 1)[0],
        )
    if df.empty:
        raise _fail(
            path,
            "ingest.no_answers",
        )
    df = df.apply(_blank_missing)
    filled = df.apply(lambda col: col.astype(str).str.strip().ne(""))
    if not filled.to_numpy().any():
        raise _fail(
            path,
            "ingest.all_blank",
            n=len(df),
        )
    df.insert(0, "source_row", np.arange(len(df)) + first_row)
    df.insert(0, "source_file", path.name)
    blank = ~filled.any(axis=1).to_numpy()
    if blank.any():  # empty lines a spreadsheet left below the answers: not respondents
        df = df.loc[~blank]
    df.attrs["blank_rows_dropped"] = int(blank.sum())
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


# --- export shapes: Kobo row ids, XLSForm labels, one column per option ---------------------

SOURCE_ID_KEYS = ("uuid", "x uuid", "instanceid", "meta instanceid")  # Kobo/ODK submission ids


def prepare_export(
    df: pd.DataFrame, spec: InputFile, cfg: SurveyConfig, cb: Codebook
) -> tuple[pd.DataFrame, pd.DataFrame, list[str], int]:
    """Before header matching: take the submission id out (it goes to the restricted log only,
    never into the data or the key), translate XLSForm choice codes to labels, and rename
    one-column-per-option multi-select headers and "Other (please specify)" text columns.
    Returns the frame, the ids (source_file, source_row, source_id), the option and other-text
    columns and the number of codes translated."""
    id_col = next((h for h in df.columns if header_key(h) in SOURCE_ID_KEYS), None)
    ids = df[["source_file", "source_row"]].copy()
    ids["source_id"] = df[id_col].astype(str) if id_col is not None else ""
    if id_col is not None:
        df = df.drop(columns=[id_col])
    form, translated = None, 0
    if spec.xlsform:
        from pipelines.xlsform import read_xlsform

        form = read_xlsform(cfg.base_dir / spec.xlsform)
    df, texts = multiselect.split_other_text(df, cb, cfg.columns)
    df, options = multiselect.split_option_columns(
        df, cb, cfg.columns, form.option_labels if form else None
    )
    options += multiselect.add_other_ticks(df, cb, texts) + texts
    if form is not None:
        df, translated = form.translate(df)
    return df, ids, options, translated


# --- personal data -----------------------------------------------------------------------------


def _blank_missing(col: pd.Series) -> pd.Series:
    """Missing cells as "" (Arrow-backed text stays so; other columns become objects)."""
    if isinstance(col.dtype, pd.StringDtype):
        return col.fillna("")
    return col.astype(object).where(col.notna(), "")


def as_text(col: pd.Series) -> pd.Series:
    """Every cell as text, "" where missing (readers give text, numbers or dates)."""
    return col.astype(str).where(col.notna(), "")


_KEY_CLEANERS = {
    "nik": lambda s: _digits(s),
    "phone": lambda s: _phone(s),
    "email": lambda s: _lower(s),
}


def link_columns(cb: Codebook) -> list[tuple[str, str]]:
    """(column, kind) of the answers that link respondents across waves, in the codebook's
    `roles.link` order (default: every NIK, then phone, then e-mail question)."""
    usable = {v.name: v.personal for v in cb.personal if v.personal in _KEY_CLEANERS}
    if cb.roles.link:
        return [(c, usable[c]) for c in cb.roles.link if c in usable]
    order = list(_KEY_CLEANERS)
    return sorted(usable.items(), key=lambda kv: order.index(kv[1]))


def respondent_keys(
    df: pd.DataFrame, secret: bytes, link: list[tuple[str, str]] | None = None
) -> tuple[pd.Series, pd.Series]:
    """A keyed pseudonym per row from the first linking answer it has (NIK, phone, e-mail by
    default); a row with none gets none. ``source`` names the kind used."""
    link = link if link is not None else [(k, k) for k in _KEY_CLEANERS]
    key = pd.Series(np.nan, index=df.index, dtype=object)
    source = pd.Series("none", index=df.index, dtype=object)
    for col, kind in link:
        if col not in df:
            continue
        vals = _KEY_CLEANERS[kind](df[col])
        use = key.isna() & vals.notna()
        if use.any():
            key[use] = privacy.pseudonymise(vals[use], secret, prefix=kind[0].upper())
            source[use] = kind
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


def _replicate_columns(path: Path, mapping: Mapping, cfg: SurveyConfig) -> list[str]:
    """The export's replicate weight columns (``design.replicate.columns``), kept under their
    own headers; one the config names but the file lacks stops with its file and name."""
    rep = cfg.design.replicate
    if rep is None or rep.columns is None:
        return []
    free = [h for h in mapping.unmatched if h not in mapping.columns]
    missing = rep.missing(free)
    if missing:
        raise _fail(
            path,
            "ingest.no_replicate_columns",
            missing=", ".join(repr(m) for m in missing[:3]),
            config=cfg.source.name,
            found=", ".join(str(h) for h in free[-3:]) or "-",
        )
    return rep.match(free)


@dataclass
class Ingested:
    data: pd.DataFrame
    log: pd.DataFrame
    fingerprints: set[str]
    ids: pd.DataFrame | None = None  # restricted: source_file, source_row -> Kobo _uuid


def ingest_wave(cfg: SurveyConfig, cb: Codebook, wave: Wave, secret: bytes) -> Ingested:
    """Read every file of a wave, map headers, pseudonymise and drop personal data."""
    frames, log, id_frames = [], [], []
    for spec in wave.files:
        path = cfg.base_dir / spec.path
        df = read_file(path, spec)
        blank_rows = df.attrs.get("blank_rows_dropped", 0)
        df["source_file"] = spec.path  # as the config names it: one file per site may share a name
        df, ids, options, translated = prepare_export(df, spec, cfg, cb)
        id_frames.append(ids)
        headers = [h for h in df.columns if h not in options]
        mapping = map_headers(headers, cb, cfg.columns)
        found = {*mapping.columns.values(), *(o.split(multiselect.SEP)[0] for o in options)}
        missing = [v for v in cb.variables if v.required and v.name not in found]
        unnamed = [h for h in df.columns if str(h).startswith("Unnamed")]
        if missing and len(unnamed) * 2 > len(df.columns) - 2:
            raise _fail(
                path,
                "ingest.not_header_row",
                header=spec.skip_rows + 1,
                config=cfg.source.name,
            )
        if missing:
            v = missing[0]
            raise _fail(
                path,
                "ingest.no_column",
                question=Localised(id=v.question.id, en=v.question.en),
                name=v.name,
                config=cfg.source.name,
            )
        replicates = _replicate_columns(path, mapping, cfg)
        df = df[["source_file", "source_row", *mapping.columns, *options, *replicates]]
        df = df.rename(columns=mapping.columns)
        log.append(
            {
                "file": path.name,
                "rows_read": len(df),
                "columns_used": len(mapping.columns),
                "columns_dropped_unknown": len(mapping.unmatched) - len(replicates),
                "dropped_headers": "; ".join(h for h in mapping.unmatched if h not in replicates),
                "replicate_weight_columns": len(replicates),
                "blank_rows_dropped": blank_rows,
                "option_columns": len([o for o in options if not o.endswith(TEXT)]),
                "other_text_columns": len([o for o in options if o.endswith(TEXT)]),
                "xlsform_codes_translated": translated,
            }
        )
        frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    for v in cb.variables:
        if v.name not in df:
            df[v.name] = ""
    text = df.columns.drop("source_row")
    df[text] = df[text].apply(as_text)
    df["source_row"] = df["source_row"].astype("int64")
    key, source = respondent_keys(df, secret, link_columns(cb))
    name_cols = [v.name for v in cb.personal if v.personal == "name" and v.name in df]
    names = df[name_cols[0]] if name_cols else None
    fingerprints = privacy.name_fingerprints(names, secret) if names is not None else set()
    masked = {}
    other_texts = [multiselect.other_text_column(v) for v in cb.variables]
    free = [v.name for v in cb.by_type("text")] + [c for c in other_texts if c and c in df]
    for col in free:  # every free text is masked here, before anything is written
        df[col], counts = privacy.mask_text(df[col], names=names)
        masked.update({f"{col}:{k}": n for k, n in counts.items()})
    personal = [v.name for v in cb.personal]
    out = df.drop(columns=[c for c in personal if c in df])
    out.insert(0, "key_source", source.values)
    out.insert(0, "respondent_key", key.values)
    out.insert(0, "wave", wave.id)
    summary = pd.DataFrame(log)
    summary["masked_in_free_text"] = sum(masked.values())
    ids = pd.concat(id_frames, ignore_index=True).assign(wave=wave.id)
    return Ingested(out.reset_index(drop=True), summary, fingerprints, ids)
