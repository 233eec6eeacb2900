"""Personas: name, describe and colour each segment; saved to the store and used by every chart."""

import streamlit as st

from dashboard import actions, components, data, keys, state
from segcore.errors import SegcoreError
from segcore.personas import COLOUR_RULE, DESCRIPTION_MAX, NAME_MAX, persona_problems

run_id = state.page("Personas", "Give each segment a name your team will use. Suggestions come from the "
                                 "profiles; edit any cell, then save. Every chart and export uses the saved names.")

personas = data.personas(run_id)
sizes = data.profiles(run_id).sizes
table = personas.merge(sizes["size"].rename("users").reset_index(), on="cluster")
edited = st.data_editor(
    table[["cluster", "users", "name", "description", "colour"]], key=f"personas_{run_id}", hide_index=True,
    disabled=["cluster", "users"], num_rows="fixed",
    column_config={
        "cluster": st.column_config.NumberColumn("Segment", width="small"),
        "users": st.column_config.NumberColumn("Users", format="localized", width="small"),
        "name": st.column_config.TextColumn("Persona name", required=True, max_chars=NAME_MAX),
        "description": st.column_config.TextColumn("Description", width="large", max_chars=DESCRIPTION_MAX),
        "colour": st.column_config.TextColumn("Colour (hex)", validate=f"^{COLOUR_RULE}$", width="small"),
    })


def _ink(hex_colour: str) -> str:
    """Black or white text, whichever reads better on the swatch (relative luminance)."""
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return "#000000" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.55 else "#FFFFFF"


swatches = edited[["name", "colour"]][edited["colour"].fillna("").str.fullmatch(COLOUR_RULE)]
if not swatches.empty:
    # the colours as every chart will draw them; names are drawn by the grid as text, never as HTML
    st.dataframe(swatches[["name"]].rename(columns={"name": "Persona"}).style.apply(
        lambda col: [f"background-color: {c}; color: {_ink(c)}" for c in swatches["colour"]]),
        hide_index=True, key=f"swatches_{run_id}")

problems = persona_problems(edited)
names = edited["name"].fillna("").str.strip()
changed = not edited[["name", "description", "colour"]].equals(table[["name", "description", "colour"]])
if problems:
    st.warning(components.md("Cannot save yet: " + "; ".join(problems) + "."))
if st.button("Save personas", type="primary", disabled=bool(problems) or not changed):
    # only what this user changed is written, and only if nobody changed the same persona meanwhile
    fields = ["name", "description", "colour"]
    mine = edited.assign(name=names).set_index("cluster")[fields]
    base = table.set_index("cluster")[fields]
    rows = [c for c in mine.index if not mine.loc[c].equals(base.loc[c])]
    try:
        actions.update_personas(run_id, {int(c): mine.loc[c].to_dict() for c in rows},
                                     expected={int(c): base.loc[c].to_dict() for c in rows})
    except SegcoreError as exc:
        st.error(components.md(str(exc)))
        st.stop()
    st.session_state[keys.PERSONAS_SAVED] = run_id  # shown after the rerun that redraws with the new names
    st.rerun()
if st.session_state.get(keys.PERSONAS_SAVED) == run_id and not changed:
    st.success("Saved. Every page now uses these names.")
elif not changed:
    st.caption("No unsaved changes.")
