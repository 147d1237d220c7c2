"""Figures and explorers for the book: pure compute → plotly figure → (live widget | static frames)."""
from .style import OKABE_ITO, figure_html, styled

__all__ = ["OKABE_ITO", "figure_html", "styled"]
