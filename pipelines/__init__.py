"""Dampak: design-aware analysis and bilingual reports for TPBIS library surveys.

Flow, one way: raw exports → ingest → clean → analyse → report. See docs/architecture.md.
"""

__version__ = "0.1.0"
