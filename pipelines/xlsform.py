"""XLSForm (the Kobo/ODK form definition): choice codes in an export translated to their labels.

Kobo exports answers of `select_one` and `select_multiple` questions as choice *codes* (`opt_2`,
`sma`, `a4`). When a wave's file names its form (`xlsform: form.xlsx`), the form's `survey` sheet
(`type`, `name`) says which list each question uses and its `choices` sheet (`list_name`, `name`,
`label::Indonesian (id)`, `label::English (en)`, ...) gives the labels, so the codebook can match
answers by their label as it does for Google Forms. Codes the form does not list are left as
they are (and then logged by cleaning if the codebook does not know them either).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipelines.errors import InputError, located


@dataclass(frozen=True)
class XLSForm:
    questions: dict[str, tuple[str, str]]  # question name -> (select_one|select_multiple, list)
    labels: dict[str, dict[str, list[str]]]  # list -> code -> labels, preferred language first

    def question_of(self, header: str) -> str | None:
        """The form's question behind an export header: `q`, `group/q`, R's `group.q`."""
        h = str(header).lstrip("\ufeff")
        for cand in (h, h.rsplit("/", 1)[-1], h.rsplit(".", 1)[-1], re.sub(r"^X_", "_", h)):
            if cand in self.questions:
                return cand
        return None

    def option_labels(self, question_header: str, code: str) -> list[str]:
        q = self.question_of(question_header)
        if q is None:
            return []
        return self.labels.get(self.questions[q][1], {}).get(str(code).strip(), [])

    def translate(self, df: pd.DataFrame) -> tuple[pd.DataFrame, int]:
        """Codes -> preferred label in every select column; returns the frame and cells changed."""
        changed = 0
        for h in df.columns:
            q = self.question_of(h) if h not in ("source_file", "source_row") else None
            if q is None:
                continue
            kind, lst = self.questions[q]
            table = {c: labs[0] for c, labs in self.labels.get(lst, {}).items() if labs}
            if not table:
                continue

            def one(x, kind=kind, table=table):
                t = str(x).strip()
                if kind == "select_one":
                    return table.get(t, x)
                codes = t.split()
                if codes and all(c in table for c in codes):
                    return "; ".join(table[c] for c in codes)
                return x

            new = df[h].map(one)
            changed += int((new != df[h]).sum())
            df[h] = new
        return df, changed


def _label_columns(cols: list[str]) -> list[str]:
    """Label columns, Indonesian first, then English, then any other."""
    labels = [c for c in cols if c.split("::")[0].strip().lower() == "label"]

    def rank(c: str) -> int:
        low = c.lower()
        if "indonesia" in low or "(id)" in low or "bahasa" in low:
            return 0
        if "english" in low or "(en)" in low:
            return 1
        return 2

    return sorted(labels, key=rank)


def read_xlsform(path: Path) -> XLSForm:
    """Read the survey and choices sheets of an XLSForm (.xlsx)."""

    def fail(en: str, idn: str) -> InputError:
        loc_en, loc_id = located(Path(path).name)
        return InputError(f"In {loc_en}: {en}", id_text=f"Di {loc_id}: {idn}")

    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, engine="openpyxl")
    except FileNotFoundError:
        raise fail(
            "the XLSForm named by 'xlsform' in the config does not exist.",
            "XLSForm yang disebut 'xlsform' di konfigurasi tidak ada.",
        ) from None
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise fail(
            "this XLSForm is not a readable Excel (.xlsx) file; download the form again.",
            "XLSForm ini bukan berkas Excel (.xlsx) yang bisa dibaca; unduh ulang formulirnya.",
        ) from None
    sheets = {k.strip().lower(): v for k, v in sheets.items()}
    for name, need in (("survey", {"type", "name"}), ("choices", {"list_name", "name"})):
        cols = set(sheets.get(name, pd.DataFrame()).columns)
        if name not in sheets or not need <= cols:
            raise fail(
                f"the XLSForm needs a '{name}' sheet with columns {', '.join(sorted(need))}.",
                f"XLSForm harus punya sheet '{name}' dengan kolom {', '.join(sorted(need))}.",
            )
    questions: dict[str, tuple[str, str]] = {}
    for t, n in sheets["survey"][["type", "name"]].dropna().itertuples(index=False):
        m = re.match(r"^\s*(select_one|select_multiple)\s+(\S+)", t)
        if m:
            questions[n.strip()] = (m.group(1), m.group(2))
    ch = sheets["choices"]
    label_cols = _label_columns(list(ch.columns))
    labels: dict[str, dict[str, list[str]]] = {}
    for rec in ch.dropna(subset=["list_name", "name"]).to_dict("records"):
        labs = [str(rec[c]).strip() for c in label_cols if pd.notna(rec[c]) and str(rec[c]).strip()]
        labels.setdefault(rec["list_name"].strip(), {})[str(rec["name"]).strip()] = labs
    return XLSForm(questions, labels)
