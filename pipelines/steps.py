"""The pipeline's steps as the notebooks call them: read the previous step's files, write this
step's files. Each step reads only what the step before it wrote, so any step can rerun alone.

This is the one place the four stages (ingest, clean, analyse, report) read and write files; the
modules they call work on frames and return frames, documents or bytes. ``check`` runs the same
per-wave ingest and clean (:func:`read_and_clean`) in memory, writing nothing.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines import quotes, suppress
from pipelines.codebook import Codebook, load_codebook
from pipelines.config import SurveyConfig, Wave, load_config
from pipelines.errors import Message, RunError, set_language
from pipelines.paths import Layout


def load(
    config_path: str, processed_dir: str, reports_dir: str
) -> tuple[SurveyConfig, Codebook, Layout]:
    """Config, codebook and output folders for a notebook, from its parameters."""
    cfg = load_config(config_path)
    set_language(cfg.messages_language)
    cb = load_codebook(cfg.instrument, cfg.base_dir)
    return cfg, cb, Layout(Path(processed_dir), Path(reports_dir))


def _fresh(folder: Path) -> Path:
    """A step owns its folder: clear it so no stale file from an earlier run survives."""
    if folder.exists():
        for p in folder.iterdir():
            if p.is_file():
                p.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _require(path: Path, step: str) -> Path:
    if not path.exists():
        raise RunError(Message("steps.missing", file=path.name, step=step))
    return path


# --- ingest --------------------------------------------------------------------------------


def pseudonym_secret() -> bytes:
    """The key that makes pseudonyms (created on first use, kept outside the project)."""
    from pipelines import privacy  # imported here: report kernels never need it

    return privacy.load_or_create_secret(privacy.default_secret_path())


def ingest_wave(cfg: SurveyConfig, cb: Codebook, wave: Wave, secret: bytes):
    """One wave's raw files read and de-identified in memory (``ingest.Ingested``); its log
    names the wave."""
    from pipelines import ingest  # imported here: report kernels never need it

    got = ingest.ingest_wave(cfg, cb, wave, secret)
    got.log = got.log.assign(wave=wave.id)
    return got


def run_ingest(cfg: SurveyConfig, cb: Codebook, out: Layout) -> pd.DataFrame:
    """Read every wave's raw files; write de-identified text tables and the ingest log."""
    secret = pseudonym_secret()
    folder, restricted = _fresh(out.ingested), out.restricted
    restricted.mkdir(parents=True, exist_ok=True)
    logs, fingerprints, ids = [], set(), []
    for wave in cfg.waves:
        got = ingest_wave(cfg, cb, wave, secret)
        got.data.to_parquet(folder / f"{wave.id}.parquet", index=False)
        logs.append(got.log)
        fingerprints |= got.fingerprints
        ids.append(got.ids)
    (restricted / "name_fingerprints.txt").write_text("\n".join(sorted(fingerprints)))
    # submission ids (Kobo _uuid) link a row back to the server's record: restricted only
    pd.concat(ids, ignore_index=True).astype(str).to_parquet(
        restricted / "source_ids.parquet", index=False
    )
    log = pd.concat(logs, ignore_index=True)
    suppress.write_csv(log, folder / "ingest_log.csv")
    return log


# --- clean ---------------------------------------------------------------------------------


def _with_source_ids(row_log: pd.DataFrame, ids: pd.DataFrame) -> pd.DataFrame:
    """``row_log`` with each row's first source id (left merge); ids of rows the log does not
    name are dropped first, so a million-row export is not deduplicated whole."""
    keys = ["wave", "source_file", "source_row"]
    ids = ids[ids["source_row"].isin(row_log["source_row"].unique())]
    return row_log.merge(ids.drop_duplicates(keys), on=keys, how="left")


def clean_wave(raw: pd.DataFrame, cfg: SurveyConfig, cb: Codebook, wave: Wave):
    """One ingested wave cleaned in memory: the data, the cleaning log (``clean.CleaningLog``)
    and the log's summary naming the wave."""
    from pipelines import clean  # imported here: report kernels never need it

    data, log = clean.clean_wave(raw, cfg, cb, wave)
    return data, log, log.summary().assign(wave=wave.id)


def read_and_clean(cfg: SurveyConfig, cb: Codebook, wave: Wave, secret: bytes):
    """One wave through the ingest and clean steps in memory, writing nothing (``check``'s dry
    run): what ingest read (``ingest.Ingested``), the cleaned data and the cleaning summary."""
    got = ingest_wave(cfg, cb, wave, secret)
    data, _, summary = clean_wave(got.data, cfg, cb, wave)
    return got, data, summary


def run_clean(cfg: SurveyConfig, cb: Codebook, out: Layout) -> dict:
    """Clean each wave; write tidy data (Parquet + spreadsheet-safe CSV), logs, panel, dictionary."""
    from pipelines import clean  # imported here: report kernels never need it

    folder = _fresh(out.clean)
    out.restricted.mkdir(parents=True, exist_ok=True)
    got = _Cleaned()
    # the spreadsheet copies are written by Arrow's compiled writer (which releases the GIL) on
    # a second thread while the step goes on; the step ends only when they are written
    with ThreadPoolExecutor(max_workers=1) as writer:
        written = []
        for wave in cfg.waves:
            raw = pd.read_parquet(_require(out.ingested / f"{wave.id}.parquet", "ingest"))
            data, log, summary = clean_wave(raw, cfg, cb, wave)
            got.waves[wave.id] = data
            data.to_parquet(folder / f"{wave.id}.parquet", index=False)
            # a shallow copy: pandas may consolidate ``data``'s blocks in place meanwhile
            csv = folder / f"{wave.id}.csv"
            written.append(writer.submit(suppress.write_csv, data.copy(deep=False), csv))
            got.summaries.append(summary)
            got.row_logs.append(log.row_log())
            got.quality[wave.id] = clean.quality(raw, data, log, cb)
        _finish_step(got, cb, folder, out)
        for future in written:
            future.result()  # a failed write fails the step
    return {"summary": pd.concat(got.summaries, ignore_index=True), "quality": got.quality}


@dataclass
class _Cleaned:
    """What the clean step gathers wave by wave for the files it writes after the last wave."""

    waves: dict[str, pd.DataFrame] = field(default_factory=dict)
    summaries: list[pd.DataFrame] = field(default_factory=list)
    row_logs: list[pd.DataFrame] = field(default_factory=list)
    quality: dict = field(default_factory=dict)


def _finish_step(got: _Cleaned, cb: Codebook, folder: Path, out: Layout) -> None:
    """The clean step's files after its waves: cleaning log, restricted row log, panel,
    attrition, quality report and dictionary."""
    from pipelines import clean

    waves, quality = got.waves, got.quality
    pd.concat(got.summaries, ignore_index=True).to_csv(folder / "cleaning_log.csv", index=False)
    row_log = pd.concat(got.row_logs, ignore_index=True).astype(str)
    ids_file = out.restricted / "source_ids.parquet"
    if ids_file.exists():  # the restricted row log names each row's Kobo _uuid too
        row_log = _with_source_ids(row_log, pd.read_parquet(ids_file))
    row_log.to_parquet(out.restricted / "cleaning_rows.parquet", index=False)
    panel = clean.panel(waves)
    panel.to_parquet(folder / "panel.parquet", index=False)
    attrition = clean.attrition(waves)
    attrition.to_csv(folder / "attrition.csv", index=False)
    quality["attrition"] = attrition.to_dict("records")
    (folder / "quality.json").write_text(json.dumps(quality, indent=2, default=str))
    columns = list(next(iter(waves.values())).columns)
    clean.dictionary(cb, columns).to_csv(folder / "dictionary.csv", index=False)


def load_clean(out: Layout, cfg: SurveyConfig) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The cleaned waves and the linked panel, as the analysis step reads them."""
    waves = {
        w.id: pd.read_parquet(_require(out.clean / f"{w.id}.parquet", "clean")) for w in cfg.waves
    }
    return waves, pd.read_parquet(_require(out.clean / "panel.parquet", "clean"))


# --- analyse -------------------------------------------------------------------------------


def run_analyse(cfg: SurveyConfig, cb: Codebook, out: Layout) -> dict[str, pd.DataFrame]:
    """Weights, scales, estimates and models; one tidy Parquet table per kind of result."""
    from pipelines import analysis

    waves, panel = load_clean(out, cfg)
    results = analysis.analyse(waves, panel, cfg, cb)
    latest = waves[cfg.waves[-1].id]
    k = cfg.report.suppression_threshold
    text = quotes.answer_column(cb, latest.columns)
    results["quotes"] = quotes.select_quotes(latest, k, column=text)
    results["site_quotes"] = quotes.site_quotes(latest, cfg.report.precision_min_n, k, column=text)
    results["site_themes"] = quotes.site_themes(latest, cfg.report.precision_min_n, k, column=text)
    folder = _fresh(out.results)
    for name, table in results.items():
        table.to_parquet(folder / f"{name}.parquet", index=False)
    suppress.write_csv(results["estimates"], folder / "estimates.csv")
    return results


def load_results(out: Layout) -> dict[str, pd.DataFrame]:
    """Every results table by name (the report step reads only these, never the data)."""
    folder = out.results
    _require(folder / "estimates.parquet", "analyse")
    return {p.stem: pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))}


def load_quality(out: Layout) -> dict:
    """The cleaning step's quality summary (the city report's data-quality section)."""
    return json.loads(_require(out.clean / "quality.json", "clean").read_text())


# --- report --------------------------------------------------------------------------------


def write_files(folder: Path, files: dict[str, str | bytes]) -> list[Path]:
    """Write each file (name relative to ``folder``: text as UTF-8, bytes as they are)."""
    written = []
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def run_report(
    cfg: SurveyConfig, cb: Codebook, out: Layout, built: dict | None = None
) -> list[Path]:
    """Read the results; write the city report in every language and format, the workbook of
    its tables and the landing pages (``built`` receives the documents, by language, for the
    notebook to show)."""
    from pipelines import report  # imported here: the data steps never need charts

    files = report.city_files(load_results(out), load_quality(out), cfg, cb, built)
    return write_files(out.reports, files)


def run_site_report(cfg: SurveyConfig, cb: Codebook, out: Layout, site: str) -> list[Path]:
    """Read the results; write one library's report in every language and format."""
    from pipelines import report  # imported here: the data steps never need charts

    return write_files(out.sites, report.site_files(load_results(out), cfg, cb, site))
