"""The report to share: one run's data, method, map, profiles, persona cards, KPIs and fairness in one
self-contained HTML file (computed by :func:`segcore.workflow.build_report`, rendered here)."""

from ._html import render_dp_html, render_html, write_html
from ._model import DpReport, Report

__all__ = ["DpReport", "Report", "render_dp_html", "render_html", "write_html"]
