"""The analysis plan: which analyses a survey gets, built from its codebook roles and config.

A codebook says what each question *is*; its `roles` say what each is *for* (exposure,
outcomes with their kind, covariates, breakdowns, link key). :func:`build_plan` turns roles
plus the columns the cleaned data really has into a :class:`Plan`: the outcomes with their
model family and answer range, and a list of analyses, each naming the inputs it needs. An
analysis whose inputs are missing is kept in the plan as *skipped*, with a reason in
Indonesian and English that the run summary, the results table and the report's methods
appendix all show. The statistics code never sees a role name: `analysis.py` hands it
columns and families taken from the plan.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from pipelines.codebook import Codebook, OutcomeRole
from pipelines.config import SurveyConfig, Text
from pipelines.derived import number_breakdowns
from pipelines.errors import Message

__all__ = ["ANALYSES", "Exposure", "Outcome", "Plan", "PlannedAnalysis", "build_plan"]

FAMILY = {
    "scale": "gaussian",
    "count": "gaussian",
    "money": "gaussian",
    "yesno": "binomial",
    "likert": "ordinal",
}
# How an effect is told: points on the outcome's range, percentage points, percent difference.
UNIT = {"scale": "points", "count": "points", "money": "percent", "yesno": "pp", "likert": "or"}

# analysis ids in report order; what each estimates is worded in the catalogue (`analyses.<id>`)
ANALYSES = (
    "descriptive",
    "site",
    "breakdown",
    "reliability",
    "likert_distribution",
    "participation",
    "ordinal",
    "mixed",
    "dose_response",
    "programme",
    "ipw",
    "inclusion",
    "paired_change",
    "did",
)


@dataclass(frozen=True)
class Outcome:
    """One analysed outcome: `column` is what models see (`log_<var>` for money)."""

    name: str
    column: str
    kind: str
    label: Text
    family: str
    unit: str
    range: tuple[float, float] | None = None
    source: str | None = None  # the variable a derived or money outcome comes from
    levels: tuple[str, ...] = ()  # a derived yes/no: the source's levels that count as yes

    @property
    def linear(self) -> bool:
        return self.family in ("gaussian", "binomial")


@dataclass(frozen=True)
class Exposure:
    """Exposure columns present in the data (None when the form does not ask)."""

    took_part: str | None = None
    took_part_derived: bool = False  # from a multi-select programme: any option ticked
    programme: str | None = None
    programme_kind: str | None = None  # "single" | "multi"
    options: dict[str, str] = field(default_factory=dict)  # multi: option code -> 0/1 column
    dose: str | None = None


@dataclass(frozen=True)
class PlannedAnalysis:
    analysis: str
    outcome: str | None
    needs: tuple[str, ...]
    runs: bool
    reason: str = ""  # a staff-message key (msg.plan.skip.*), worded in any language later
    reason_fields: tuple[tuple[str, str], ...] = ()

    def why(self, lang: str) -> str:
        """The reason it is not run, in ``lang``."""
        return reason_text(self.reason, dict(self.reason_fields), lang)


@dataclass(frozen=True)
class Plan:
    outcomes: list[Outcome]
    exposure: Exposure
    covariates: list[str]
    breakdowns: list[str]
    headline: list[str]
    scales: dict[str, dict]
    single_items: list[str]
    strata: str | None
    cluster: str | None
    waves: int
    analyses: list[PlannedAnalysis]

    def outcome(self, name: str) -> Outcome:
        return next(o for o in self.outcomes if o.name == name)

    def runs(self, analysis: str, outcome: str | None = None) -> bool:
        return any(
            a.runs and a.analysis == analysis and (outcome is None or a.outcome == outcome)
            for a in self.analyses
        )

    def outcomes_for(self, analysis: str) -> list[Outcome]:
        """Outcomes a per-outcome analysis runs for, in plan order."""
        names = {a.outcome for a in self.analyses if a.runs and a.analysis == analysis}
        return [o for o in self.outcomes if o.name in names]

    def families(self, outcomes: Iterable[Outcome]) -> dict[str, str]:
        return {o.column: o.family for o in outcomes}

    def table(self) -> pd.DataFrame:
        """One row per planned analysis: what it needs, whether it runs, why not."""
        rows = [
            {
                "analysis": a.analysis,
                "outcome": a.outcome,
                "needs": ", ".join(a.needs),
                "runs": a.runs,
                "reason": a.reason,
                "reason_fields": json.dumps(dict(a.reason_fields)) if a.reason_fields else "",
            }
            for a in self.analyses
        ]
        return pd.DataFrame(
            rows, columns=["analysis", "outcome", "needs", "runs", "reason", "reason_fields"]
        )

    def skipped(self) -> pd.DataFrame:
        t = self.table()
        return t[~t["runs"]].reset_index(drop=True)

    def roles_table(self) -> pd.DataFrame:
        """Which column plays which role in this survey's analysis (one row each)."""
        ex = self.exposure
        rows = [
            ("took_part", ex.took_part),
            ("programme", ex.programme),
            ("programme_kind", ex.programme_kind),
            ("dose", ex.dose),
            ("strata", self.strata),
            ("cluster", self.cluster),
            *(("covariate", c) for c in self.covariates),
            *(("breakdown", b) for b in self.breakdowns),
            *(("option", o) for o in ex.options),
        ]
        return pd.DataFrame([(r, c) for r, c in rows if c is not None], columns=["role", "column"])

    def outcome_table(self) -> pd.DataFrame:
        """The outcomes with their kind, range and labels (reports read this, not the codebook)."""
        return pd.DataFrame(
            [
                {
                    "outcome": o.name,
                    "column": o.column,
                    "kind": o.kind,
                    "family": o.family,
                    "unit": o.unit,
                    "range_low": o.range[0] if o.range else None,
                    "range_high": o.range[1] if o.range else None,
                    "label_id": o.label.id,
                    "label_en": o.label.en,
                    "headline": o.name in self.headline,
                }
                for o in self.outcomes
            ],
            columns=[
                "outcome",
                "column",
                "kind",
                "family",
                "unit",
                "range_low",
                "range_high",
                "label_id",
                "label_en",
                "headline",
            ],
        )


# --------------------------------------------------------------------------- building
def _outcome(cb: Codebook, o: OutcomeRole) -> Outcome:
    if o.kind == "scale":
        s = cb.scales[o.var]
        return Outcome(
            o.var, o.var, "scale", o.label or s.label, "gaussian", "points", cb.scale_range(o.var)
        )
    if o.from_ is not None:
        return Outcome(
            o.var,
            o.var,
            "yesno",
            o.label,
            "binomial",
            "pp",
            (0, 1),
            source=o.from_,
            levels=tuple(o.levels),
        )
    v = cb.var(o.var)
    label = o.label or v.label or v.question
    if o.kind == "money":
        return Outcome(o.var, f"log_{o.var}", "money", label, "gaussian", "percent", source=o.var)
    if o.kind == "likert":
        return Outcome(o.var, o.var, "likert", label, "ordinal", "or", cb.item_range(v))
    rng = (0, 1) if o.kind == "yesno" else (tuple(v.range) if v.range else None)
    return Outcome(o.var, o.var, o.kind, label, FAMILY[o.kind], UNIT[o.kind], rng)


def _present(o: Outcome, cb: Codebook, columns: set[str]) -> bool:
    if o.kind == "scale":
        return all(i in columns for i in cb.scales[o.name].items) or o.name in columns
    if o.source is not None:
        return o.source in columns or o.column in columns
    return o.column in columns


def _exposure(cb: Codebook, columns: set[str]) -> Exposure:
    ex = cb.roles.exposure
    took = ex.took_part if ex.took_part in columns else None
    prog, kind, options = None, None, {}
    if ex.programme:
        v = cb.var(ex.programme)
        if v.type == "multiselect":
            options = {c: col for c, col in v.option_columns().items() if col in columns}
            if options:
                prog, kind = ex.programme, "multi"
        elif ex.programme in columns:
            prog, kind = ex.programme, "single"
    derived = took is None and kind == "multi"
    dose = ex.dose if ex.dose in columns else None
    return Exposure(
        took_part=took or ("took_part" if derived else None),
        took_part_derived=derived,
        programme=prog,
        programme_kind=kind,
        options=options,
        dose=dose,
    )


def _skip(analysis: str, outcome: str | None, needs, reason: str, **fields: str):
    return PlannedAnalysis(analysis, outcome, tuple(needs), False, reason, tuple(fields.items()))


def reason_text(reason: str, fields: dict | str | None, lang: str) -> str:
    """A skip reason (message key and its fields, as a dict or the plan table's JSON) in ``lang``."""
    if not reason:
        return ""
    if not isinstance(fields, dict):  # the table's JSON text ("" or missing: no fields)
        fields = json.loads(fields) if isinstance(fields, str) and fields else {}
    return Message(reason, **fields).text(lang)


def reasons(table: pd.DataFrame, lang: str) -> pd.Series:
    """The plan table's skip reasons worded in ``lang``."""
    return pd.Series(
        [
            reason_text(k, f, lang)
            for k, f in zip(table["reason"], table["reason_fields"], strict=True)
        ],
        index=table.index,
        dtype=object,
    )


def _run(analysis: str, outcome: str | None, needs):
    return PlannedAnalysis(analysis, outcome, tuple(needs), True)


def build_plan(cb: Codebook, cfg: SurveyConfig, columns: Iterable[str]) -> Plan:
    """The plan for this codebook and config, given the columns the cleaned data has."""
    columns = set(columns)
    roles = cb.roles
    declared = [_outcome(cb, o) for o in roles.outcomes]
    outcomes = [o for o in declared if _present(o, cb, columns)]
    absent = [o for o in declared if o not in outcomes]
    ex = _exposure(cb, columns)
    a = cfg.analysis
    covariates = [c for c in (a.covariates or roles.covariates) if c in columns]
    _, amounts = number_breakdowns(cfg, cb)  # one group per value is no breakdown
    breakdowns = [b for b in (a.breakdowns or roles.breakdowns) if b in columns]
    breakdowns = [b for b in breakdowns if b not in amounts]
    head_names = a.headline or roles.headline
    headline = [o.name for o in outcomes if head_names is None or o.name in head_names]
    scales_ = {
        n: {
            "items": list(s.items),
            "reverse": list(s.reverse),
            "min_answered": s.min_answered,
            "range": cb.scale_range(n),
        }
        for n, s in cb.scales.items()
        if all(i in columns for i in s.items)
    }
    in_scales = {i for s in cb.scales.values() for i in s.items}
    single = [v.name for v in cb.by_type("likert") if v.name in columns and v.name not in in_scales]
    strata, cluster = cfg.design.strata, cfg.design.site  # site: the first-stage unit
    strata = strata if strata in columns else None
    cluster = cluster if cluster in columns else None
    n_waves = len(cfg.waves)

    plans: list[PlannedAnalysis] = []
    for o in absent:
        plans.append(
            _skip(
                "descriptive",
                o.name,
                [o.source or o.name],
                "plan.skip.not_asked",
                question=o.source or o.name,
            )
        )
    for o in outcomes:
        if o.kind != "likert":
            plans.append(_run("descriptive", o.name, [o.name]))
    for b in (b for b in amounts if b in columns):
        plans.append(_skip("breakdown", None, [b], "plan.skip.number_breakdown", column=b))
    if breakdowns and ex.took_part:
        pass  # with a comparison group the inclusion lens gives every group's results
    elif breakdowns:
        plans.append(_run("breakdown", None, breakdowns))
    else:
        plans.append(
            _skip(
                "breakdown",
                None,
                ["breakdowns"],
                "plan.skip.no_breakdown",
            )
        )
    if scales_:
        plans.append(_run("reliability", None, list(scales_)))
    likert_items = [v.name for v in cb.by_type("likert") if v.name in columns]
    if likert_items:
        plans.append(_run("likert_distribution", None, likert_items))
    if cluster:
        plans.append(_run("site", None, [cluster]))
    else:
        plans.append(
            _skip(
                "site",
                None,
                ["cluster"],
                "plan.skip.no_cluster_column",
            )
        )

    took = ex.took_part
    no_took = "plan.skip.no_took_part"
    for o in outcomes:
        needs = ["took_part", o.name, "covariates"]
        if o.kind == "likert":
            plans.append(
                _run("ordinal", o.name, needs) if took else _skip("ordinal", o.name, needs, no_took)
            )
            continue
        plans.append(
            _run("participation", o.name, needs)
            if took
            else _skip("participation", o.name, needs, no_took)
        )
        if o.kind == "scale" or (o.kind in ("money", "count") and o.name in headline):
            if not took:
                plans.append(_skip("mixed", o.name, needs, no_took))
            elif not cluster:
                plans.append(
                    _skip(
                        "mixed",
                        o.name,
                        [*needs, "cluster"],
                        "plan.skip.no_cluster",
                    )
                )
            else:
                plans.append(_run("mixed", o.name, [*needs, "cluster"]))

    for o in (o for o in outcomes if o.name in headline and o.linear):
        needs = ["took_part", o.name, "covariates"]
        if not took:
            for an in ("dose_response", "programme", "ipw", "inclusion"):
                plans.append(_skip(an, o.name, needs, no_took))
            continue
        if ex.dose:
            plans.append(_run("dose_response", o.name, [*needs, "dose"]))
        else:
            plans.append(
                _skip(
                    "dose_response",
                    o.name,
                    [*needs, "dose"],
                    "plan.skip.no_dose",
                )
            )
        if ex.programme:
            plans.append(_run("programme", o.name, [*needs, "programme"]))
        else:
            plans.append(
                _skip(
                    "programme",
                    o.name,
                    [*needs, "programme"],
                    "plan.skip.no_programme",
                )
            )
        if covariates:
            plans.append(_run("ipw", o.name, needs))
        else:
            plans.append(
                _skip(
                    "ipw",
                    o.name,
                    needs,
                    "plan.skip.no_covariates",
                )
            )
        groups = [*breakdowns, *([cluster] if cluster else [])]
        if groups:
            plans.append(_run("inclusion", o.name, [*needs, "breakdowns"]))
        else:
            plans.append(
                _skip(
                    "inclusion",
                    o.name,
                    [*needs, "breakdowns"],
                    "plan.skip.no_breakdown",
                )
            )

    change_outcomes = [
        o for o in outcomes if o.linear and (o.name in headline or o.kind == "yesno")
    ]
    for o in change_outcomes:
        for an in ("paired_change", "did"):
            needs = ["two waves", "link", o.name] + (["took_part"] if an == "did" else [])
            if n_waves < 2:
                plans.append(_skip(an, o.name, needs, "plan.skip.one_wave"))
            elif an == "did" and not took:
                plans.append(_skip(an, o.name, needs, no_took))
            elif "respondent_key" not in columns:
                plans.append(
                    _skip(
                        an,
                        o.name,
                        needs,
                        "plan.skip.no_link",
                    )
                )
            else:
                plans.append(_run(an, o.name, needs))

    return Plan(
        outcomes=outcomes,
        exposure=ex,
        covariates=covariates,
        breakdowns=breakdowns,
        headline=headline,
        scales=scales_,
        single_items=single,
        strata=strata,
        cluster=cluster,
        waves=n_waves,
        analyses=plans,
    )
