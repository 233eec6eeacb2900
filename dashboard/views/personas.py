"""Personas: name, describe and colour each segment; saved to the store and used by every chart."""

import streamlit as st

from dashboard import actions, components, data, keys, readouts, state
from segcore.errors import SegcoreError
from segcore.personas import DESCRIPTION_MAX, NAME_MAX, NARRATIVE_MAX, persona_problems
from segcore.store import RUN_LABEL_MAX

run_id = state.page("Personas", "Give each segment a name your team will use. Suggestions come from the "
                                 "profiles; edit any cell, then save. Every chart and export uses the saved names.")

run = data.runs(state.dataset()).set_index("run_id").loc[run_id]  # read fresh: names and pins change
with st.form(f"run_name_{run_id}", border=False):
    left, mid, right = st.columns([3, 2, 1], vertical_alignment="bottom")
    label = left.text_input("Name of this run", value=run["label"] if isinstance(run["label"], str) else "",
                            max_chars=RUN_LABEL_MAX, placeholder="e.g. Spring 2026 launch",
                            help="Shown in the run picker. New sessions open the run last named or pinned.")
    pinned = mid.checkbox("Pin: open this run first", value=bool(run["pinned"]))
    if right.form_submit_button("Save"):
        actions.mark_run(run_id, label=label, pinned=pinned)
        st.rerun()

personas = data.personas(run_id)
sizes = data.profiles(run_id).sizes
table = personas.merge(sizes["size"].rename("users").reset_index(), on="cluster")
edited = st.data_editor(
    table[["cluster", "users", "name", "description"]], key=f"personas_{run_id}", hide_index=True,
    disabled=["cluster", "users"], num_rows="fixed",
    column_config={
        "cluster": st.column_config.NumberColumn("Segment", width="small"),
        "users": st.column_config.NumberColumn("Users", format="localized", width="small"),
        "name": st.column_config.TextColumn("Persona name", required=True, max_chars=NAME_MAX),
        "description": st.column_config.TextColumn("Description", width="large", max_chars=DESCRIPTION_MAX),
    })

st.markdown("**Colours**")
st.caption("Every chart draws the persona in this colour; a persona named as in an earlier run of this dataset "
           "starts with its colour there.")
pickers = st.columns(min(len(table), 6))
colours = []
for i, row in enumerate(table.itertuples()):
    name = edited["name"].iloc[i]  # a cleared cell is None or NaN while the user types
    # the label is the persona's name as written, never markdown
    colours.append(pickers[i % len(pickers)].color_picker(
        components.md(name if isinstance(name, str) and name.strip() else f"Segment {row.cluster}"),
        value=row.colour, key=f"colour_{run_id}_{row.cluster}"))
edited = edited.assign(colour=[c.upper() for c in colours])

problems = persona_problems(edited)
names = edited["name"].fillna("").str.strip()
changed = not edited[["name", "description", "colour"]].reset_index(drop=True).equals(
    table[["name", "description"]].assign(colour=table["colour"].str.upper()).reset_index(drop=True))
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

st.subheader("Persona cards")
st.caption("For stakeholders: what each persona is, what sets it apart, and what to try with it. Every difference is "
           "against the other users and holds up after correcting all the tests together (Benjamini-Hochberg, "
           "q < 0.05). The narrative is written from the numbers; rewrite it as your team would say it.")
min_size = state.chosen_min_size()
cards = readouts.cards(run_id, tuple(personas[["name", "colour", "narrative"]].itertuples(index=False, name=None)),
                   min_size)
currency = data.currency()
for card in cards:
    with st.container(border=True):
        if card.withheld:
            st.markdown(f"**{components.md(card.name)}**: {card.size:,} users, fewer than the minimum segment size "
                        f"({min_size}): withheld, so nothing else about it is shown.")
            continue
        st.markdown(f"**{components.md(card.name)}** · {card.size:,} users ({card.share:.1%})"
                    + (" · *narrative edited*" if card.edited else ""))
        st.write(components.md(card.narrative))
        left, right = st.columns(2)
        with left:
            st.markdown("**What sets them apart**")
            for t in card.traits:
                st.markdown("- " + components.md(t.text(currency)))
            if card.rule:
                st.markdown("**Rule of thumb**: " + components.md(
                    f"{card.rule[0]} ({card.rule[1]:.0%} precision, covers {card.rule[2]:.0%})"))
        with right:
            st.markdown("**Angles to try**")
            if not card.angles:
                st.caption("No difference is strong enough to suggest one.")
            for angle, because in card.angles:
                st.markdown("- " + components.md(angle) + "  \n  " + components.md(f"because {because}"))
        with st.expander("Edit the narrative"):
            with st.form(f"narrative_{run_id}_{card.cluster}", border=False):
                text = st.text_area("Narrative", value=card.narrative, max_chars=NARRATIVE_MAX, height=150,
                                    key=f"narrative_text_{run_id}_{card.cluster}")
                save, reset = st.columns(2)
                saved_now = save.form_submit_button("Save the narrative")
                back = reset.form_submit_button("Use the generated text", disabled=not card.edited)
            if saved_now or back:
                value = None if back or not text.strip() or text.strip() == card.generated else text.strip()
                try:
                    actions.update_personas(run_id, {card.cluster: {"narrative": value}},
                                            expected={card.cluster: {"narrative": card.edited}})
                except SegcoreError as exc:
                    st.error(components.md(str(exc)))
                    st.stop()
                st.session_state.pop(f"narrative_text_{run_id}_{card.cluster}", None)
                st.rerun()
