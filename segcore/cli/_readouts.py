"""The verbs that read runs out for stakeholders: KPIs, fairness, persona cards, comparisons, the shared report."""

from __future__ import annotations

import json

from ..errors import InputError
from ._common import min_size, pairs, progress, table

__all__ = ["READOUTS"]


def cards(store, args) -> int:
    from ..workflow import run_cards

    found = run_cards(store, args.run_id, min_segment_size=min_size(args), correction=args.correction)
    if args.json:
        print(json.dumps({"cards": [c.to_dict() for c in found], "min_segment_size": min_size(args),
                          "correction": {"bh": "Benjamini-Hochberg", "holm": "Holm"}[args.correction]}))
        return 0
    money = store.currency()
    out = []
    for c in found:
        if c.withheld:
            out.append(f"{c.name} (cluster {c.cluster}): {c.size:,} users; withheld: fewer than {min_size(args)} "
                       "users, so nothing else about it is shown")
            continue
        out.append(f"== {c.name} (cluster {c.cluster}, {c.colour}): {c.size:,} users ({c.share:.1%})")
        out.append(c.narrative + ("  [edited]" if c.edited else ""))
        out += [f"  trait: {t.text(money)}" for t in c.traits]
        out += [f"  angle: {angle} (because {why})" for angle, why in c.angles]
        out.append("")
    print("\n".join(out).rstrip())
    return 0


def compare(store, args) -> int:
    from ..workflow import compare_runs

    cmp = compare_runs(store, args.run_a, args.run_b, min_segment_size=min_size(args))
    print(f"agreement (adjusted Rand index) over {cmp.users:,} users: {cmp.ari:.3f}")
    print(cmp.crosstab.to_string())
    print(table(cmp.matches[["persona_b", "users_b", "persona_a", "users_a", "jaccard"]].round(3)))
    return 0


def _evidence_lines(report) -> str:
    """Each persona's KPIs that differ from the other users after correction, with intervals."""
    ev = report.evidence
    if ev is None or ev.empty:
        return ""
    method = {"bh": "Benjamini-Hochberg", "holm": "Holm"}[report.correction]
    out = [f"differences from the other users, significant after {method} correction (q < 0.05):"]
    labels = {k.name: k.label for k in report.shown}
    for r in ev[ev["significant"]].itertuples():
        out.append(f"  {r.segment}: {labels[r.kpi]} {r.value:.4g} (95% CI {r.ci_low:.4g} to {r.ci_high:.4g}) "
                   f"against {r.rest:.4g}, q = {r.q:.2g}")
    missing = ev[ev["reason"].notna()]
    out += [f"  {r.segment}: {labels[r.kpi]}: {r.reason}" for r in missing.itertuples()]
    return "\n".join(out)


def _trends(store, args) -> int:
    """``segcore kpis RUN --by week|month``: each persona's KPIs per period of activity."""
    from ..workflow import run_kpi_trends

    trends = run_kpi_trends(store, args.run_id, args.by, min_segment_size=min_size(args))
    if args.json:
        print(json.dumps({**trends.to_dict(), "min_segment_size": min_size(args)}))
        return 0
    shown = trends.table.assign(period=trends.table["period"].dt.date,
                                partial=trends.table["partial"].map({True: "partial", False: ""}))
    print(shown.drop(columns="enough").rename(columns=trends.kpis).round(4).to_string(index=False, na_rep="n/a"))
    print(f"per {args.by} of activity, {trends.span[0]:%Y-%m-%d} to {trends.span[1]:%Y-%m-%d}; a partial period is "
          "only partly inside the log; n/a: fewer than 30 active users, or nothing to measure")
    print("\n".join(f"not per {args.by}: {why}" for why in trends.not_over_time.values()))
    for seg in trends.withheld:
        print(f"withheld: {seg} has fewer than {min_size(args)} users, so its KPIs are not shown")
    return 0


def kpis(store, args) -> int:
    from ..workflow import run_kpis

    if args.by:
        return _trends(store, args)
    report = run_kpis(store, args.run_id, min_segment_size=min_size(args), correction=args.correction)
    money = store.currency()
    if args.json:
        print(json.dumps({**report.to_dict(), "min_segment_size": min_size(args),
                          "currency": {"symbol": money.symbol, "decimals": money.decimals}}))
        return 0
    kpi_table = report.table
    print(kpi_table.round(4).to_string(index=False, na_rep="n/a"))
    print("\n".join(report.lines()))
    if money.symbol and any(k.unit == "money" for k in report.shown):
        print(f"money in {money.symbol}")
    print(_evidence_lines(report))
    for seg in kpi_table.loc[kpi_table["withheld"], "segment"]:
        print(f"withheld: {seg} has fewer than {min_size(args)} users, so its KPIs are not shown")
    return 0


def fairness(store, args) -> int:
    from ..fairness import FOUR_FIFTHS
    from ..workflow import run_fairness

    threshold = FOUR_FIFTHS if args.threshold is None else args.threshold
    rep = run_fairness(store, args.run_id, args.attr or None, threshold=threshold, min_group=args.min_group,
                       min_segment_size=min_size(args), correction=args.correction)
    shown = rep.table[["segment", "attribute", "group", "in_segment", "segment_share", "population_share",
                       "impact_ratio", "below_rule", "q", "flagged"]]
    print(table(shown.round(3)))
    print("\n".join(("flag: " if not rep.flags.empty and line.startswith(tuple(rep.flags["segment"])) else "")
                    + line for line in rep.lines()))
    return 0


def _private_report(store, args, out) -> int:
    import sys

    from ..report import write_html
    from ..workflow import build_dp_report

    caps = {}
    for key, value in pairs(args.clip, "--clip").items():
        try:
            caps[key] = float(value)
        except ValueError:
            raise InputError(f"--clip {key}={value!r}: the cap should be a number") from None
    rep = build_dp_report(store, args.run_id, epsilon=args.dp_epsilon, caps=caps, min_segment_size=min_size(args))
    write_html(rep, out)
    rel = rep.release
    left = "".join(f"; left out: {why}" for why in rel.left_out.values())
    print(f"wrote {out}: a private release (epsilon = {rel.epsilon:g} over {rel.queries} queries) of {len(rel.table)} "
          f"segment sizes and {len(rel.shown)} KPIs, {rel.withheld} segment(s) withheld by their noisy size{left}",
          file=sys.stderr)
    print(out)
    return 0


def report(store, args) -> int:
    import sys
    from pathlib import Path

    from ..report import write_html
    from ..workflow import build_report

    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"the report is an HTML file: name it .html, not {out.name!r}")
    if not out.parent.is_dir():
        raise InputError(f"no folder {str(out.parent)!r} to write the report in")
    if args.dp_epsilon is not None:
        return _private_report(store, args, out)
    bar, update = progress("report")
    try:
        rep = build_report(store, args.run_id, min_segment_size=min_size(args), correction=args.correction,
                           sweep=not args.no_sweep, progress=update)
    finally:
        bar.close()
    write_html(rep, out)
    withheld = f"; {len(rep.withheld)} segment(s) under {rep.min_segment_size} users withheld" if rep.withheld else ""
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB): {len(rep.cards) - len(rep.withheld)} persona cards, "
          f"{len(rep.kpis.shown)} KPIs{withheld}; it opens offline in any browser", file=sys.stderr)
    print(out)
    return 0


def experiment(store, args) -> int:
    from ..kpi import KPI_LABELS
    from ..workflow import run_experiment

    readout = run_experiment(store, args.run_id, args.variant, control=args.control,
                             min_segment_size=min_size(args), correction=args.correction)
    if args.json:
        print(json.dumps({**readout.to_dict(), "min_segment_size": min_size(args)}))
        return 0
    counts = ", ".join(f"{v}: {n:,}" for v, n in readout.users.items())
    out = [f"variants of {readout.variant_column!r} ({counts} users), each against {readout.control!r}; tests "
           f"corrected together ({'Benjamini-Hochberg' if readout.correction == 'bh' else 'Holm'})"]
    for r in readout.effects.itertuples():
        head = f"  {KPI_LABELS[r.kpi]}, {r.scope}, {r.variant}:"
        if isinstance(r.reason, str) and r.effect != r.effect:  # no effect: say why
            out.append(f"{head} {r.reason}")
            continue
        mark = " *" if r.significant else ""
        out.append(f"{head} {r.value:.4g} against {r.control_value:.4g}, effect {r.effect:+.4g} (95% CI "
                   f"{r.effect_low:+.4g} to {r.effect_high:+.4g}), q = {r.q:.2g}{mark}")
    out.append("* holds up after correction (q < 0.05)")
    for r in readout.heterogeneity.itertuples():
        if isinstance(r.reason, str):
            continue
        verdict = "differs between personas" if r.p < 0.05 else "no evidence that it differs between personas"
        out.append(f"heterogeneity, {KPI_LABELS[r.kpi]}, {r.variant}: Q = {r.q_statistic:.2f} on {r.df} df, "
                   f"p = {r.p:.2g}, I² = {r.i2:.0%}: the effect {verdict}")
    out += [f"withheld: {w} has fewer than {min_size(args)} users" for w in readout.withheld]
    print("\n".join(out))
    return 0


# verb -> what it does (merged into segcore.cli._verbs.VERBS)
READOUTS = {"cards": cards, "compare": compare, "kpis": kpis, "fairness": fairness, "report": report,
            "experiment": experiment}
