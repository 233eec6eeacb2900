"""The report to share: one run's data, method, map, profiles, persona cards, KPIs and fairness in one
self-contained HTML file (computed by :func:`segcore.workflow.build_report`, rendered here)."""

from ._html import render_html, write_html
from ._model import Report

__all__ = ["Report", "render_html", "write_html"]
