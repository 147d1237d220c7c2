"""Figures and explorers for the book: pure compute → plotly figure → (live widget | static frames)."""
import sys

def _import_jsonschema_without_iri_grammars() -> None:
    """Import jsonschema (plotly's FigureWidget pulls it in through nbformat) without rfc3987_syntax.

    At import, jsonschema asks rfc3987_syntax for its "iri" format checkers, which compiles 38 lark grammars:
    measured in the embeddings chapter's kernel, 3.9 s of CPU for the explorer's cell against 0.9 s without. Nothing
    in the book validates "iri" formats; only those two checkers are skipped, and rfc3987_syntax itself
    stays importable afterwards. A kernel that has already imported either module is left as it is.
    """
    if "jsonschema" in sys.modules or "rfc3987_syntax" in sys.modules:
        return
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # `import` raises ImportError: skipped
    try:
        import jsonschema  # noqa: F401  (imported for its side effect)
    except ImportError:
        pass
    finally:
        if sys.modules.get("rfc3987_syntax", False) is None:
            del sys.modules["rfc3987_syntax"]



_import_jsonschema_without_iri_grammars()  # before plotly: every chapter's first live figure is 2–3 s faster

from .style import OKABE_ITO, figure_html, styled  # noqa: E402

__all__ = ["OKABE_ITO", "figure_html", "styled"]
