"""Where things live: the project's folders, defined once."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
RAW = ROOT / "data" / "raw"
PROCESSED = ROOT / "data" / "processed"
REPORTS = ROOT / "reports"
STAGING = ROOT / "data" / ".staging"
SAMPLE_CONFIG = RAW / "solok" / "solok_2026.yaml"


class Layout:
    """The output folders of one survey (published, or a staging copy of them)."""

    def __init__(self, processed: Path, reports: Path):
        self.processed = Path(processed)
        self.reports = Path(reports)

    @property
    def ingested(self) -> Path:
        return self.processed / "ingest"

    @property
    def clean(self) -> Path:
        return self.processed / "clean"

    @property
    def restricted(self) -> Path:
        return self.processed / "restricted"

    @property
    def results(self) -> Path:
        return self.processed / "results"

    @property
    def executed(self) -> Path:
        return self.reports / "executed"

    @property
    def sites(self) -> Path:
        return self.reports / "sites"


def published(survey_id: str) -> Layout:
    return Layout(PROCESSED / survey_id, REPORTS / survey_id)
