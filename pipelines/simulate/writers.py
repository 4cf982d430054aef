"""Writing a simulation: CSV / XLSX / SAV exports, ``truth.json`` and the survey configs."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from .coefficients import AGE_EDGES
from .form import GOT_JOB_HEADER, SHEET_NAME, _names
from .generate import Simulation
from .places import CITY, margins
from .text import _cat, _s

XLSX_MAX_ROWS = 200_000
SAV_LABELLED = ("consent", "disability", "participated", "income_change", "business", "got_job")


def _write_sav(frame: pd.DataFrame, path: Path) -> None:
    """SPSS file: codebook names as variables, raw headers as labels, yes/no-like columns
    as numeric codes labelled with the raw spellings."""
    import pyreadstat

    names = _names()
    df = pd.DataFrame(index=range(len(frame)))
    value_labels = {}
    for h, v in zip(frame.columns, names, strict=True):
        col = frame[h]
        if v == "sessions":
            df[v] = col.astype("float64")
        elif v in SAV_LABELLED:
            cats = sorted(col.dropna().unique())
            codes = pd.Categorical(col, categories=cats).codes.astype(float) + 1
            codes[codes == 0] = np.nan
            df[v] = codes
            value_labels[v] = {float(i + 1): c for i, c in enumerate(cats)}
        else:
            df[v] = col.astype(object).where(col.notna(), None)
    pyreadstat.write_sav(
        df,
        str(path),
        column_labels=list(frame.columns),
        variable_value_labels=value_labels,
    )


def _csv_field(values) -> pa.Array:
    """CSV text of one column: quoted only when needed (like Google Sheets), blank = ''."""
    s = _s(values)
    need = pc.match_substring_regex(s, '[",\r\n]')
    if pc.any(need).as_py():
        quoted = _cat('"', pc.replace_substring(s, '"', '""'), '"')
        s = pc.if_else(need, quoted, s)
    return pc.fill_null(s, "")


def _write_csv(frame: pd.DataFrame, path: Path, chunk: int = 250_000) -> None:
    """UTF-8 CSV, minimal quoting, "\n" line ends; built with Arrow kernels in row chunks."""
    head = ",".join(_csv_field(pa.array(list(frame.columns))).to_pylist())
    cols = [pa.array(frame[h].array, from_pandas=True) for h in frame.columns]
    with open(path, "wb") as fh:
        fh.write((head + "\n").encode("utf-8"))
        for start in range(0, len(frame), chunk):
            fields = [_csv_field(c.slice(start, chunk)) for c in cols]
            lines = pc.binary_join_element_wise(*fields, ",")
            lines = pc.cast(_cat(lines, "\n"), pa.large_string())
            offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
            lo, hi = offsets[lines.offset], offsets[lines.offset + len(lines)]
            fh.write(memoryview(lines.buffers()[2])[lo:hi])


def _write_xlsx(frame: pd.DataFrame, path: Path) -> None:
    """Excel workbook with the Google Sheets sheet name; "=..." answers stay text."""
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        frame.to_excel(xw, sheet_name=SHEET_NAME, index=False)
        ws = xw.sheets[SHEET_NAME]
        # text starting with "=" must stay text, not become a formula
        for j, h in enumerate(frame.columns):
            col = frame[h]
            if col.dtype == "Int64":
                continue
            hits = np.flatnonzero(col.fillna("").str.startswith("=").to_numpy())
            for i in hits:
                cell = ws.cell(row=int(i) + 2, column=j + 1)
                cell.value = str(col.iloc[i])
                cell.data_type = "s"


def write(
    sim: Simulation,
    out_dir: str | Path,
    formats: Sequence[str] = ("csv", "xlsx", "sav"),
    prefix: str = "solok",
) -> list[Path]:
    """Write ``<prefix>_<wave>.<ext>`` for each wave and format, plus ``truth.json``.

    XLSX is skipped (with a note on stderr) above 200,000 rows: openpyxl is too slow.
    Returns the paths written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for wid, frame in sim.waves.items():
        base = out / f"{prefix}_{wid}"
        for fmt in formats:
            path = base.with_suffix(f".{fmt}")
            if fmt == "csv":
                _write_csv(frame, path)
            elif fmt == "xlsx":
                if len(frame) > XLSX_MAX_ROWS:
                    print(
                        f"simulate: skipped {path.name}: {len(frame):,} rows is above the "
                        f"{XLSX_MAX_ROWS:,}-row XLSX limit (too slow); use csv or sav",
                        file=sys.stderr,
                    )
                    continue
                _write_xlsx(frame, path)
            elif fmt == "sav":
                _write_sav(frame, path)
            else:
                raise ValueError(f"unknown format {fmt!r} (csv, xlsx, sav)")
            written.append(path)
    truth = dict(sim.truth)
    truth["files"] = {
        wid: {"rows": int(len(f)), "base": f"{prefix}_{wid}"} for wid, f in sim.waves.items()
    }
    tpath = out / "truth.json"
    tpath.write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    written.append(tpath)
    return written


def write_config(
    out_dir: str | Path,
    sim: Simulation,
    prefix: str = "solok",
    formats: Sequence[str] = ("csv", "xlsx"),
    overwrite: bool = False,
) -> list[Path]:
    """Write survey configs for a simulated survey, structured like the Kota Solok pair:
    ``<prefix>_<wave1>.yaml`` (the baseline) and ``<prefix>_<wave2>.yaml`` (extends it and
    adds wave 2). Wave 1 is read from CSV, wave 2 from XLSX when it was written (else CSV).
    Refuses to replace existing files unless ``overwrite``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pl = sim.places
    wid1, wid2 = sim.truth["waves"]
    n_rows = len(sim.waves[wid2])
    paths = [out / f"{prefix}_{wid1}.yaml", out / f"{prefix}_{wid2}.yaml"]
    if not overwrite and any(p.exists() for p in paths):
        raise FileExistsError(
            f"{', '.join(str(p) for p in paths if p.exists())} exists; pass overwrite=True"
        )
    seed = sim.truth["generator"]["seed"]
    n_sites = len(pl.sites)
    sites_yaml = []
    for s in pl.sites:
        d = {"id": s["id"], "name": s["name"], "kecamatan": s["kecamatan"]}
        if s.get("aliases"):
            d["aliases"] = list(s["aliases"])
        sites_yaml.append(d)
    w2_xlsx = "xlsx" in formats and n_rows <= XLSX_MAX_ROWS
    w2_file = (
        {"path": f"{prefix}_{wid2}.xlsx", "format": "xlsx", "sheet": SHEET_NAME}
        if w2_xlsx
        else {"path": f"{prefix}_{wid2}.csv", "format": "csv"}
    )
    base = {
        "survey": {
            "id": f"{prefix}-{wid1}",
            "title": {
                "id": f"Survei Dampak TPBIS {CITY} {wid1} (sintetis, {n_sites} perpustakaan)",
                "en": f"{CITY} TPBIS impact survey {wid1} (synthetic, {n_sites} libraries)",
            },
            "city": CITY,
            "synthetic": True,
        },
        "instrument": "tpbis",
        "messages_language": "id",
        "waves": [
            {
                "id": wid1,
                "label": {"id": f"Gelombang 1 (Maret {wid1})", "en": f"Wave 1 (March {wid1})"},
                "reference_date": f"{wid1}-03-31",
                "files": [{"path": f"{prefix}_{wid1}.csv", "format": "csv"}],
            }
        ],
        "columns": {GOT_JOB_HEADER: "got_job"},
        "places": {"kecamatan": pl.kecamatan, "aliases": pl.aliases},
        "sites": sites_yaml,
        "design": {
            "strata": "kecamatan",
            "cluster": "site",
            "fpc": None,
            "weights": {"method": "rake", "trim_ratio": 5, "margins": margins(pl)},
        },
        "analysis": {
            "age_bands": list(AGE_EDGES),
            "income_bands": [0, 1000000, 2500000, 5000000],
            "covariates": ["age", "gender", "education", "disability"],
            "min_sessions_dose": 1,
        },
        "cleaning": {"duplicates": "keep_last", "min_seconds": 180, "straightline_min_items": 10},
        "report": {
            "languages": ["id", "en"],
            "formats": ["html", "pdf"],
            "suppression_threshold": 10,
            "precision_min_n": 30,
            "precision_max_ci_share": 0.25,
            "institution": {
                "id": "Dinas Perpustakaan dan Kearsipan Kota Solok (contoh)",
                "en": "Kota Solok Library and Archives Office (example)",
            },
            "contact": "Bidang Layanan Perpustakaan, Dinas Perpustakaan dan Kearsipan Kota Solok "
            "(contoh)",
            "citation": {
                "id": "Dinas Perpustakaan dan Kearsipan Kota Solok (2026). Survei Dampak TPBIS "
                "Kota Solok 2025-2026: laporan kota. Data sintetis untuk contoh.",
                "en": "Kota Solok Library and Archives Office (2026). Kota Solok TPBIS impact "
                "survey 2025-2026: city report. Synthetic example data.",
            },
            "official_indicators": [
                {
                    "name": "IPLM",
                    "year": 2024,
                    "value": 71.2,
                    "scale": "0-100",
                    "source": "Perpusnas (ilustrasi)",
                },
                {
                    "name": "TKM",
                    "year": 2024,
                    "value": 70.1,
                    "scale": "0-100",
                    "source": "Perpusnas (ilustrasi)",
                },
            ],
        },
    }
    follow = {
        "extends": paths[0].name,
        "survey": {
            "id": f"{prefix}-{wid2}",
            "title": {
                "id": f"Survei Dampak TPBIS {CITY} {wid1}-{wid2} (sintetis)",
                "en": f"{CITY} TPBIS impact survey {wid1}-{wid2} (synthetic)",
            },
            "city": CITY,
            "synthetic": True,
        },
        "waves": [
            {
                "id": wid2,
                "label": {"id": f"Gelombang 2 (Maret {wid2})", "en": f"Wave 2 (March {wid2})"},
                "reference_date": f"{wid2}-03-31",
                "files": [w2_file],
            }
        ],
    }
    head = (
        f"# Dampak survey config, GENERATED by `python -m pipelines simulate` (seed {seed}, "
        f"{n_sites} sites): synthetic data, no real person.\n"
    )
    for path, doc in zip(paths, (base, follow), strict=True):
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
        path.write_text(head + text, encoding="utf-8")
    return paths
