"""A report as one self-contained HTML file: opens offline in any browser, loads nothing from the network.

plotly's JavaScript is inlined once for the whole file; each chart is a div and a call to it. Every text
that comes from users or data (names, narratives, descriptions, column and category names) is escaped
here, and plotly escapes the figures' own strings in its JSON. A Content Security Policy forbids the
page any request at all: nothing can be fetched, even by mistake.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np

from ..cards import PersonaCard
from ..cluster import ALGORITHMS
from ..features import describe_feature, format_value
from ._model import DpReport, Report

__all__ = ["render_dp_html", "render_html", "write_html"]

# scripts and styles inline only; images as data URIs only; no request of any kind
_CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
        "font-src data:; connect-src 'none'")

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1f2430;
       background: #fafafa; line-height: 1.45; }
header { background: #332288; color: white; padding: 1.2rem 2rem; }
header h1 { margin: 0 0 .3rem 0; font-size: 1.6rem; }
header p { margin: 0; opacity: .9; }
nav { background: white; border-bottom: 1px solid #ddd; padding: .5rem 2rem; position: sticky; top: 0; z-index: 5; }
nav a { margin-right: 1.2rem; color: #332288; text-decoration: none; font-weight: 600; }
main { max-width: 1200px; margin: 0 auto; padding: 1rem 2rem 3rem; }
section { background: white; border: 1px solid #e3e3e3; border-radius: 8px; padding: 1rem 1.5rem; margin: 1.2rem 0; }
h2 { margin-top: .2rem; color: #332288; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .92rem; }
th, td { border-bottom: 1px solid #e6e6e6; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f7; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 1rem; }
.card { border: 1px solid #ddd; border-left: 8px solid var(--colour); border-radius: 6px; padding: .8rem 1rem; }
.card h3 { margin: 0 0 .2rem 0; }
.muted { color: #666; font-size: .9rem; }
.warn { background: #fff4e5; border-left: 4px solid #e69500; padding: .5rem .8rem; }
.chart { width: 100%; }
ul { padding-left: 1.2rem; }
"""

_SECTIONS = (("data", "Data"), ("method", "Method"), ("map", "Map"), ("profiles", "Profiles"),
             ("personas", "Persona cards"), ("kpis", "KPIs"), ("fairness", "Fairness"))


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _table(headers: list[str] | None, rows: list[list]) -> str:
    """A table of escaped cells; ``headers`` None for a table of labels and values."""
    head = "" if headers is None else "<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in headers) + "</tr></thead>"
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>{head}<tbody>{body}</tbody></table>"


def _list(items) -> str:
    return "<ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>" if items else ""


def _figure(fig, name: str) -> str:
    """A chart's div and script; ``name`` makes its id, so it is ours (letters, digits, dashes), never data."""
    import plotly.io as pio

    if not re.fullmatch(r"[a-z0-9-]+", name):
        raise ValueError(f"chart id {name!r} is not a plain name")
    return ('<div class="chart">' + pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=f"chart-{name}",
                                                config={"displaylogo": False, "responsive": True}) + "</div>")


def _data(r: Report) -> str:
    d = r.dataset
    facts = d.event_facts or {}
    rows = [["Users", f"{d.n_users:,}"]]
    if d.n_events:
        rows.append(["Events", f"{d.n_events:,}"])
    if facts.get("shape"):
        rows.append(["Kind of log", {"events": "event log (clickstream)",
                                     "transactions": "transaction log"}.get(facts["shape"], facts["shape"])])
    if facts.get("first_event") and facts.get("last_event"):
        rows.append(["Period", f"{str(facts['first_event'])[:10]} to {str(facts['last_event'])[:10]}"])
    rows.append(["Source", Path(str(d.source)).name])
    privacy = [f"{p['column']}: {'kept only as a SHA-256 hash' if p['action'] == 'hash' else 'dropped'} "
               f"({p['kind']})" for p in d.privacy]
    findings = [f.line() for f in r.quality.findings]
    return (_table(None, rows)
            + ("<h3>Personal data</h3>" + _list(privacy) if privacy else
               "<p class=muted>No column looked like personal data.</p>")
            + "<h3>Quality</h3>" + (_list(findings) or "<p>No problem found in the feature table.</p>"))


def _method(r: Report) -> str:
    run = r.run
    m = run.metrics
    method = ALGORITHMS[run.algo].label if run.algo in ALGORITHMS else run.algo.upper()
    features = ", ".join(describe_feature(f).label for f in run.features)
    rows: list[list] = [["Method", method], ["Segments (k)", run.k], ["Features", features],
            ["Preprocessing", ", ".join(f"{k}={v}" for k, v in run.preprocessing.items())], ["Seed", run.seed],
            ["Run", run.run_id], ["Fitted", f"{run.created_at:%Y-%m-%d %H:%M}" if run.created_at else ""]]
    for key, label, fmt in (("silhouette", "Silhouette (-1 to 1, higher is better separated)", ".3f"),
                            ("calinski_harabasz", "Calinski-Harabasz (higher is better)", ",.0f"),
                            ("davies_bouldin", "Davies-Bouldin (lower is better)", ".3f")):
        if isinstance(m.get(key), int | float):
            rows.append([label, format(m[key], fmt)])
    out = _table(None, rows)
    out += "<h3>The evidence for k</h3>"
    if r.sweep is not None:
        chosen = "the recommended k" if r.sweep.recommended_k == run.k else \
            f"k={run.k}, where the sweep recommends k={r.sweep.recommended_k}"
        out += f"<p>This run uses {_e(chosen)}. {_e(r.sweep.reason)}</p>"
        out += "".join(_figure(r.figures[n], n.replace("_", "-")) for n in ("elbow", "silhouette", "sizes_by_k")
                       if n in r.figures)
    out += f"<p class=muted>{_e(r.sweep_note)}</p>" if r.sweep_note else ""
    stability = run.segment_stability
    if stability:
        names = {s.cluster: s.name for s in r.summaries if not s.withheld}
        out += "<h3>Stability of each segment</h3>" + _table(
            ["Persona", "Found again in resampled refits (mean Jaccard, 1 = always)"],
            [[names[c], f"{v:.2f}" + (" (unstable)" if v < 0.6 else "")] for c, v in stability.items() if c in names])
    return out


def _card(c: PersonaCard, r: Report) -> str:
    colour = c.colour if c.colour.startswith("#") and len(c.colour) == 7 else "#888888"  # checked when saved
    if c.withheld:
        return (f'<div class="card" style="--colour:{colour}"><h3>{_e(c.name)}</h3><p>{c.size:,} users: fewer than '
                f"{r.min_segment_size}, so withheld.</p></div>")
    traits = _list(t.text(r.currency) for t in c.traits)
    kpis = _list(f"{k.label}: {format_value(k.value, 'share' if k.unit == 'rate' else k.unit, r.currency)} "
                 f"(95% CI {format_value(k.ci_low, 'share' if k.unit == 'rate' else k.unit, r.currency)} to "
                 f"{format_value(k.ci_high, 'share' if k.unit == 'rate' else k.unit, r.currency)})"
                 + (" ▲" if k.significant and k.value > k.rest else " ▼" if k.significant else "")
                 for k in c.kpis if not k.reason)
    angles = _list(f"{a} (because {why})" for a, why in c.angles)
    rule = f"<p><b>Rule of thumb:</b> {_e(c.rule[0])} ({c.rule[1]:.0%} precision, covers {c.rule[2]:.0%})</p>" \
        if c.rule else ""
    return (f'<div class="card" style="--colour:{colour}"><h3>{_e(c.name)}</h3>'
            f'<p class=muted>{c.size:,} users ({c.share:.1%}){" · narrative edited by the team" if c.edited else ""}'
            f"</p><p>{_e(c.narrative)}</p><h4>What sets them apart</h4>{traits}{rule}"
            + (f"<h4>KPIs</h4>{kpis}" if kpis else "")
            + f"<h4>Angles to try</h4>{angles or '<p class=muted>No difference is strong enough to suggest one.</p>'}"
            + "</div>")


def _kpis(r: Report) -> str:
    from ..charts import kpi_table

    rep = r.kpis
    if not rep.shown:
        return "<p>This dataset supports none of the KPIs.</p>" + _list(rep.unavailable.values())
    kpis = rep.table.rename(columns={"segment": "persona"})
    kpis = kpis[~kpis["withheld"]]
    labels = {k.name: k.label for k in rep.shown}
    table = kpi_table(kpis, labels, {k.name: k.unit for k in rep.shown}, r.currency, rep.evidence)
    method = {"bh": "Benjamini-Hochberg", "holm": "Holm"}[rep.correction]
    return (_figure(r.figures["kpis"], "kpis") if "kpis" in r.figures else "") \
        + _table(list(table.columns), table.astype(str).values.tolist()) \
        + (f"<p class=muted>▲ ▼: the persona's value is higher or lower than the other users' and stays so after "
           f"correcting all the tests together ({_e(method)}, q &lt; 0.05). Error bars: 95% intervals. In brackets: "
           "the value as a multiple of all users'.</p>") \
        + _list(f"{k.label} = {rep.definitions[k.name]}" for k in rep.shown) \
        + ("<p class=muted>Not available:</p>" + _list(rep.unavailable.values()) if rep.unavailable else "") \
        + _trends(r)


def _trends(r: Report) -> str:
    t = r.trends
    if t is None:
        return f"<h3>Over time</h3><p class=muted>{_e(r.trends_note)}</p>" if r.trends_note else ""
    out = f"<h3>Per {t.grain} of activity</h3>"
    if "trends" in r.figures:
        out += _figure(r.figures["trends"], "trends")
    return out + (f"<p class=muted>From {t.span[0]:%Y-%m-%d} to {t.span[1]:%Y-%m-%d}, over the users active in each "
                  f"{t.grain}. Open markers: a {t.grain} only partly inside the log. Gaps: fewer than 30 active users. "
                  + _e(" ".join(f"Not per {t.grain}: {why}." for why in t.not_over_time.values())) + "</p>")


def _fairness(r: Report) -> str:
    if r.fairness is None:
        return f"<p>{_e(r.fairness_note)}</p>"
    out = _list(r.fairness.lines())
    charts = [(name.split(":", 1)[1], fig) for name, fig in r.figures.items() if name.startswith("fairness:")]
    for i, (attribute, fig) in enumerate(charts):
        out += f"<h3>By {_e(attribute.replace('_', ' '))}</h3>" + _figure(fig, f"fairness-{i}")
    return out


def render_html(report: Report) -> str:
    """The report as one HTML document (see the module's docstring)."""
    r = report
    withheld = "" if not r.withheld else '<p class="warn">Withheld (fewer than ' + \
        f"{r.min_segment_size} users, so only their size is named): " + \
        _e("; ".join(f"{s.name} ({s.size:,} users)" for s in r.withheld)) + "</p>"
    profiles = "".join(_figure(r.figures[n], n) for n in ("heatmap", "sizes") if n in r.figures)
    profiles += _list(f"{s.name} ({s.share:.0%}): {s.description}" for s in r.summaries if not s.withheld)
    body = {
        "data": _data(r),
        "method": _method(r),
        "map": (_figure(r.figures["map"], "map") if "map" in r.figures else "")
        + f"<p class=muted>{_e(r.map_note)}</p>",
        "profiles": profiles,
        "personas": '<div class="cards">' + "".join(_card(c, r) for c in r.cards) + "</div>",
        "kpis": _kpis(r),
        "fairness": _fairness(r),
    }
    subtitle = (f"Made with Persona Lab on {r.generated_at:%Y-%m-%d %H:%M} UTC · exact figures · segments under "
                f"{r.min_segment_size} users withheld")
    return _page(r.title, subtitle, [(key, title, body[key]) for key, title in _SECTIONS], withheld)


def _page(title: str, subtitle: str, sections: list[tuple[str, str, str]], preface: str = "") -> str:
    """The document around the sections (key, title, HTML already escaped), plotly's JavaScript inlined once."""
    from plotly.offline import get_plotlyjs

    body = "".join(f'<section id="{key}"><h2>{_e(name)}</h2>{html_}</section>' for key, name, html_ in sections)
    nav = "".join(f'<a href="#{key}">{_e(name)}</a>' for key, name, _ in sections)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_CSS}</style>"
            f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>'
            f"<header><h1>{_e(title)}</h1><p>{_e(subtitle)}</p></header>"
            f"<nav>{nav}</nav><main>{preface}{body}</main></body></html>")


def render_dp_html(report: DpReport) -> str:
    """A private release (:class:`DpReport`) as one HTML document: sizes and KPIs with their noise."""
    r, rel = report, report.release
    unit = {k.name: k.unit for k in rel.shown}
    about = (f"<p>Every figure below was released with differential privacy (epsilon = {rel.epsilon:g} for the "
             f"whole release, one user as the unit): OpenDP added Laplace noise calibrated to {rel.queries} queries "
             f"of epsilon {rel.epsilon_per_query:.3g} each. Each figure is given with the standard deviation of "
             "its noise (±). Which segments are shown was decided on the noisy sizes alone: "
             f"{rel.withheld} segment(s) too small to survive the noise are withheld. A KPI whose noise is more than "
             "half its value is shown as too noisy to read.</p>"
             + _list([f"Each user's {k.replace('_', ' ')} is clipped to at most {v:g} before it is summed"
                      for k, v in rel.caps.items()])
             + "<p class=muted>Profiles, the map, persona cards and fairness are exact figures about the users and "
             "are not part of a private release. Persona names are labels the team chose from the exact "
             "profiles.</p>")
    sizes = _table(["Persona", "Users (noisy)", "± noise"],
                   [[s.segment, f"{s.users:,}", f"{s.users_noise_sd:,.1f}"] for s in rel.table.itertuples()])
    rows = []
    for k in rel.shown:
        shown_as = "share" if unit[k.name] == "rate" else unit[k.name]
        rows.append([k.label] + [
            ("too noisy to read" if noisy else format_value(v, shown_as, r.currency))
            + (f" ± {format_value(sd, shown_as, r.currency)}" if np.isfinite(sd) else "")
            for v, sd, noisy in zip(rel.table[k.name], rel.table[f"{k.name}_noise_sd"],
                                    rel.table[f"{k.name}_too_noisy"])])
    kpis = (_table(["KPI", *rel.table["segment"]], rows) if rel.shown else "<p>No KPI is released.</p>") + \
        (_list(rel.left_out.values()) if rel.left_out else "")
    method = _table(None, [["Run", r.run.run_id], ["Method", ALGORITHMS[r.run.algo].label if r.run.algo in ALGORITHMS
                                                   else r.run.algo], ["Segments (k)", r.run.k]])
    subtitle = (f"Made with Persona Lab on {r.generated_at:%Y-%m-%d %H:%M} UTC · differentially private "
                f"(epsilon = {rel.epsilon:g}) · noisy figures")
    return _page(r.title, subtitle, [("privacy", "About this release", about), ("sizes", "Segment sizes", sizes),
                                     ("kpis", "KPIs", kpis), ("method", "Method", method)])


def write_html(report: Report | DpReport, path) -> Path:
    """Write :func:`render_html` (or :func:`render_dp_html`) to ``path`` (``.html``), through a temporary
    file: a failed write leaves no half report."""
    import os
    import tempfile

    path = Path(path)
    text = render_dp_html(report) if isinstance(report, DpReport) else render_html(report)
    fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".html", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
