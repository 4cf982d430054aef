"""`python -m pipelines check`: everything a run would reject, found in one go, writing nothing.

It loads the config and codebook, checks them against each other (:func:`survey_problems`, which
`Run` also calls, so a config or codebook `check` passes is one `run` accepts), reads and cleans
every wave in memory, checks the design columns exist in the cleaned data, and lists the analyses
the plan will run and skip. Every problem found is printed, one sentence each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.codebook import Codebook
from pipelines.config import SurveyConfig
from pipelines.errors import ConfigError, DampakError, Message, msg


def known_columns(cfg: SurveyConfig, cb: Codebook) -> set[str]:
    """Every column the cleaned data can hold: answers (multi-select as option columns), the
    kecamatan of the site, and the derived columns whose source the codebook asks."""
    from pipelines.derived import derived_columns

    cols: set[str] = set()
    for v in cb.variables:
        if v.type == "personal":
            continue
        cols |= set(v.option_columns().values()) if v.type == "multiselect" else {v.name}
    if cb.by_role("site") is not None or "site" in cols:
        cols.add("kecamatan")
    return cols | set(derived_columns(cb, cols))


def survey_problems(cfg: SurveyConfig, cb: Codebook) -> list[ConfigError]:
    """Config x codebook inconsistencies a run would hit later (a design column no question
    gives, weighting margins whose levels are not the codebook's): one error each."""
    from pipelines.derived import margin_levels

    src = cfg.source.name
    known = known_columns(cfg, cb)
    out: list[ConfigError] = []
    design = {"design.strata": cfg.design.strata, "design.cluster": cfg.design.cluster}
    design["design.fpc"] = cfg.design.fpc
    if cfg.design.weights.method in ("column", "rake"):
        design["design.weights.column"] = cfg.design.weights.column
    for key, col in design.items():
        if col and col not in known:
            out.append(
                ConfigError(
                    Message("check.unknown_column", source=src, key=key, column=col, codebook=cb.id)
                )
            )
    for var, totals in cfg.design.weights.margins.items():
        levels = margin_levels(cfg, cb, var)
        if levels is None:
            continue
        missing = [lv for lv in levels if lv not in totals]
        unknown = [lv for lv in totals if lv not in levels]
        if missing or unknown:
            key = f"design.weights.margins.{var}"
            out.append(
                ConfigError(
                    Message(
                        "check.margin_levels",
                        source=src,
                        key=key,
                        levels=levels,
                        missing=missing,
                        unknown=unknown,
                    )
                )
            )
    return out + number_breakdown_problems(cfg, cb)


def number_breakdown_problems(cfg: SurveyConfig, cb: Codebook) -> list[ConfigError]:
    """A breakdown by a number (an age, an amount) would make one group per distinct value:
    one error each, naming the key and the band to derive and list instead."""
    from pipelines.derived import number_breakdowns

    key, columns = number_breakdowns(cfg, cb)
    where = (
        Message("config.file", path=cfg.source.name)
        if key.startswith("analysis")
        else Message("check.in_codebook", codebook=cfg.instrument)
    )
    return [ConfigError(_number_breakdown(cb, where, key, c)) for c in columns]


def _number_breakdown(cb: Codebook, where: Message, key: str, column: str) -> Message:
    """The message for one breakdown by a number, with the `roles.derived` line that bands it."""
    kind = cb.var(column).type if cb.has(column) else "derived"
    cuts = "[...]"
    if kind == "currency":
        cuts = "income_bands, money: true"
    elif re.search(r"(?i)(^|_)(age|umur|usia)(_|$|\d)", column):
        cuts = "age_bands"
    band = f"{column}_band"
    suggest = f"{band}: {{from: {column}, how: bands, cuts: {cuts}}}"
    return Message(
        "check.number_breakdown",
        where=where,
        key=key,
        column=column,
        kind=Message(f"check.amount.{kind}"),
        suggest=suggest,
        band=band,
    )


def _data_problems(cfg: SurveyConfig, cb: Codebook, columns: set[str]) -> list[ConfigError]:
    """Design columns the codebook knows but the cleaned data lack (optional questions the
    exports did not ask); unknown ones were reported by survey_problems."""
    out, known = [], known_columns(cfg, cb)
    for key, col in (("design.strata", cfg.design.strata), ("design.cluster", cfg.design.cluster)):
        if col and col in known and col not in columns:
            out.append(
                ConfigError(
                    Message("check.column_not_asked", source=cfg.source.name, key=key, column=col)
                )
            )
    return out


@dataclass
class CheckResult:
    """What `check` found: problems (one sentence each), output lines, the cleaning log and the
    plan's table of analyses (None before the plan exists or when the data could not be read)."""

    problems: list[DampakError] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    log: pd.DataFrame | None = None
    plan: pd.DataFrame | None = None


def check_survey(config_path: str | Path) -> CheckResult:
    """Load, cross-check, read and clean every wave in memory; collect every problem."""
    from pipelines import steps
    from pipelines.codebook import load_codebook
    from pipelines.config import file_problems, load_config
    from pipelines.errors import set_language
    from pipelines.runner import cleaning_warnings

    res = CheckResult()
    cfg = load_config(config_path, check_files=False)  # a broken config stops here
    set_language(cfg.messages_language)
    res.problems += file_problems(cfg)
    cb = load_codebook(cfg.instrument, cfg.base_dir)
    res.problems += survey_problems(cfg, cb)
    secret = steps.pseudonym_secret()
    logs, waves = [], {}
    missing_files = {p for e in res.problems for p in getattr(e, "paths", ())}
    for wave in cfg.waves:
        if any(p in missing_files for p in cfg.wave_files(wave)):
            continue
        try:  # the ingest and clean steps' own per-wave work, nothing written
            got, data, summary = steps.read_and_clean(cfg, cb, wave, secret)
            if cfg.design.weights.method == "file":  # a weights file's keys checked now
                from pipelines import weightfile

                w = weightfile.from_file(data, cfg.design.weights, cfg.base_dir)
                res.lines.append(w[1]["note"])
        except DampakError as e:
            res.problems.append(e)
            continue
        waves[wave.id] = data
        logs.append(summary)
        res.lines.append(msg("check.wave_rows", wave=wave.id, read=len(got.data), kept=len(data)))
    if logs:
        res.log = pd.concat(logs, ignore_index=True)
        res.lines += cleaning_warnings(res.log)
    if waves and len(waves) == len(cfg.waves):
        res.problems += _data_problems(cfg, cb, {c for d in waves.values() for c in d.columns})
        res.plan = _plan_table(cfg, cb, waves)
        res.lines += plan_lines(res.plan)
    return res


def _plan_table(cfg: SurveyConfig, cb: Codebook, waves: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The analysis plan of these cleaned waves, built exactly as the analysis stage builds it."""
    from pipelines.analysis import _columns
    from pipelines.plan import build_plan

    return build_plan(cb, cfg, _columns(waves)).table()


def plan_lines(table: pd.DataFrame | None) -> list[str]:
    """The analyses that will run (one item per analysis, with its outcomes), then those not
    run with their reason as the run summary says them, in the messages language."""
    from pipelines.runner import skipped_analyses

    if table is None or table.empty:
        return []
    runs = table[table["runs"].astype(bool)]
    items = []
    for analysis, g in runs.groupby("analysis", sort=False):
        outs = ", ".join(str(o) for o in g["outcome"].dropna().unique())
        items.append(f"{analysis} ({outs})" if outs else str(analysis))
    will = msg("check.will_run", analyses="; ".join(items) or msg("check.none"))
    return [will, *skipped_analyses(table)]


def main(config_path: str, log: str | None = None) -> int:
    """The `check` command: print what was found; exit 2 when anything would stop a run."""
    import sys

    res = check_survey(config_path)
    for line in res.lines:
        print(line)
    if log and res.log is not None:
        Path(log).parent.mkdir(parents=True, exist_ok=True)
        res.log.to_csv(log, index=False)
    if res.problems:
        for e in res.problems:
            print(f"ERROR: {e}", file=sys.stderr)
        return 2
    print(msg("check.readable"))
    return 0
