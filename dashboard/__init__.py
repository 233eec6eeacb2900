"""Persona Lab dashboard: thin Streamlit pages over segcore."""
