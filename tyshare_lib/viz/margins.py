"""Room for the tick labels and titles of a figure's outer axes, estimated in Python (issue 7: a faster figure).

plotly.js draws a figure, then measures the tick labels of its axes, and when they reach past the margins it
widens the margins and draws the whole figure a second time (``automargin``). Nearly every figure of the book
was drawn twice that way: its 70-px left margin was a few pixels short of "−1.5" or "1000" and a title.
:func:`margins_needed` works out, from the figure's data and axes, the left and bottom margins the outer axes
take, with plotly's own tick rules (1, 2 or 5 × 10ⁿ steps, at most ten ticks; decades on log axes) and the
widths of Helvetica/Arial glyphs (the book's font), so that :func:`tyshare_lib.viz.adaptive.book_spec` can give
them up front and plotly.js draws each figure once. An estimate a little short only costs the second drawing,
as before; ``automargin`` stays on, so nothing is ever clipped.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

# Advance widths of Helvetica/Arial glyphs, in em (the metrics of Liberation Sans and Nimbus Sans, which stand in
# for them on Linux); anything else counts as a wide lowercase letter.
_EM = {**dict.fromkeys("0123456789", 0.556), ".": 0.278, ",": 0.278, " ": 0.278, "−": 0.584, "-": 0.333,
       "+": 0.584, "×": 0.584, "=": 0.584, "%": 0.889, "(": 0.333, ")": 0.333, "/": 0.278, ":": 0.278,
       "∞": 0.713, "μ": 0.576, "λ": 0.5, "ρ": 0.578, "·": 0.278,
       **dict(zip("abcdefghijklmnopqrstuvwxyz", (0.556, 0.556, 0.5, 0.556, 0.556, 0.278, 0.556, 0.556, 0.222, 0.222,
                                                 0.5, 0.222, 0.833, 0.556, 0.556, 0.556, 0.556, 0.333, 0.5, 0.278,
                                                 0.556, 0.5, 0.722, 0.5, 0.5, 0.5))),
       **dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", (0.667, 0.667, 0.722, 0.722, 0.667, 0.611, 0.778, 0.722, 0.278, 0.5,
                                                 0.667, 0.556, 0.833, 0.722, 0.778, 0.667, 0.778, 0.722, 0.667, 0.611,
                                                 0.722, 0.667, 0.944, 0.667, 0.667, 0.611)))}
_SUP = re.compile(r"<sup>(.*?)</sup>")
_TAG = re.compile(r"<[^>]+>")  # a plotly rich-text tag (also used by adaptive.py)
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁻"
_AXIS = re.compile(r"^([xy])axis(\d*)$")  # a layout axis key: letter, number (also used by adaptive.py)
TICK_PAD = 8          # px between an axis line and its tick labels' far edge, beyond the tick itself (measured)
TITLE_GAP = {"y": 16, "x": 7}  # px around an axis title beyond its line (measured at 17 px: 51 px + labels on
                               # the left, 71 px with one line of labels at the bottom)
SLACK = 3             # px: glyph metrics differ a little from font to font


def text_px(text: str, size: float) -> float:
    """Width in px of a plotly rich-text label at font ``size`` (``<sup>`` text as plotly draws it, measured)."""
    width = 0.0
    for sup in _SUP.findall(text):
        width += 0.85 * _plain_px(sup, size) + 2  # measured: plotly's raised 70 % type takes more than 70 %
    return width + _plain_px(_SUP.sub("", text), size)


def _plain_px(text: str, size: float) -> float:
    text = _TAG.sub("", text)
    return size * sum(0.7 * 0.556 if c in _SUPERSCRIPTS else _EM.get(c, 0.556) for c in text)


def _numbers(values: Any) -> list[float]:
    out = []
    for v in _flat(values):
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, (int, float)) and math.isfinite(v):
            out.append(float(v))
    return out


def _flat(values: Any) -> Iterable[Any]:
    if isinstance(values, Mapping) and "bdata" in values:  # plotly's typed array: {"dtype", "bdata", "shape"}
        import base64

        import numpy as np

        yield from np.frombuffer(base64.b64decode(values["bdata"]), dtype=values.get("dtype", "f8")).tolist()
        return
    if hasattr(values, "tolist"):  # a numpy array (a figure not yet serialised)
        values = values.tolist()
    if isinstance(values, (list, tuple)):
        for v in values:
            if isinstance(v, (list, tuple)):
                yield from _flat(v)
            else:
                yield v


def _linear_labels(lo: float, hi: float, fmt: str | None) -> list[str]:
    """Tick labels plotly writes on a linear axis from lo to hi, at the finest step it would use (ten ticks)."""
    if hi <= lo:
        hi = lo + 1.0
    rough = (hi - lo) / 10
    base = 10 ** math.floor(math.log10(rough))
    step = next(m * base for m in (1, 2, 5, 10) if m * base >= rough * (1 - 1e-9))
    decimals = -math.floor(math.log10(step) + 1e-9)  # digits after the point the step needs (< 0: none)
    biggest = max(abs(lo), abs(hi))
    labels = []
    k = math.ceil(lo / step - 1e-9)
    while k * step <= hi + 1e-9 and len(labels) < 40:
        v = k * step
        labels.append(_number_label(v, decimals, biggest, fmt))
        k += 1
    return labels


def _number_label(v: float, decimals: int, biggest: float, fmt: str | None) -> str:
    if fmt:
        try:
            return format(v, fmt.lstrip("~")).replace("-", "−")
        except (ValueError, TypeError):
            pass
    if biggest >= 1e4 and abs(v) >= 1e3:  # plotly's default exponent format: 200k, 1.5M, 2B
        power = next(p for p in (9, 6, 3) if abs(v) >= 10 ** p)
        text = f"{v / 10 ** power:.{max(0, decimals + power)}f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text
        return text.replace("-", "−") + {9: "B", 6: "M", 3: "k"}[power]
    text = f"{v:.{max(0, decimals)}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return ("0" if float(text) == 0 else text).replace("-", "−")


def _decimal(v: float) -> str:
    """A number as plotly writes a tick at it: no trailing zeros, a true minus sign."""
    text = f"{v:.6f}".rstrip("0").rstrip(".")
    return ("0" if text in ("-0", "") else text).replace("-", "−")


_SI = {-15: "f", -12: "p", -9: "n", -6: "μ", 3: "k", 6: "M", 9: "G", 12: "T"}


def _log_labels(exponents: list[float], axis: Mapping[str, Any]) -> list[str]:
    """Labels at 10**k for each k of ``exponents``, as plotly writes them: plain numbers from 0.001 to 1000;
    beyond, with exponentformat "power", ``10³¹`` on plotly's own decades and ``1×10¹²`` at given tickvals,
    and by default SI prefixes (``100μ``, ``10k``)."""
    fmt = axis.get("exponentformat") or "B"
    labels = []
    for k in exponents:
        whole = round(k)
        if abs(k - whole) > 1e-6:  # a tick between decades (2, 5, 20, ...): as wide as a decade's label
            whole = math.floor(k)
        if -3 <= whole <= 3 and not (fmt == "power" and axis.get("tickvals") is None and whole not in (0, 1)):
            labels.append(_decimal(10.0 ** whole))
        elif fmt == "power":
            labels.append(f"{'' if axis.get('tickvals') is None else '1×'}10<sup>{str(whole).replace('-', '−')}</sup>")
        elif fmt in ("B", "SI") and -15 <= whole <= 14:
            three = 3 * math.floor(whole / 3)
            labels.append(f"{10 ** (whole - three)}{_SI[three]}")
        else:
            labels.append(f"1×10<sup>{str(whole).replace('-', '−')}</sup>")
    return labels


def _range(axis: Mapping[str, Any], numbers: list[float]) -> tuple[float, float] | None:
    """The axis's range: its own ``range`` where given (either end may be left to the data), else the data's."""
    rng = axis.get("range") if isinstance(axis.get("range"), (list, tuple)) else [None, None]
    if len(rng) != 2:
        rng = [None, None]
    lo = float(rng[0]) if isinstance(rng[0], (int, float)) else (min(numbers) if numbers else None)
    hi = float(rng[1]) if isinstance(rng[1], (int, float)) else (max(numbers) if numbers else None)
    if lo is None or hi is None:
        return None
    return (min(lo, hi), max(lo, hi))


def tick_labels(axis: Mapping[str, Any], values: list[Any]) -> list[str]:
    """The tick labels plotly would write on ``axis`` (a layout axis) holding ``values`` (its data); where
    plotly's choice depends on the axis's length in pixels, the longest labels it could choose."""
    if axis.get("showticklabels") is False:
        return []
    if axis.get("ticktext") is not None:
        return [str(t) for t in axis["ticktext"]]
    prefix, suffix = str(axis.get("tickprefix") or ""), str(axis.get("ticksuffix") or "")
    kind = axis.get("type") or "-"
    numbers = _numbers(values)
    strings = [v for v in _flat(values) if isinstance(v, str)]
    if kind == "category" or (kind == "-" and strings and not numbers):
        labels = list(dict.fromkeys(strings)) or [str(v) for v in numbers]
    elif kind == "log":
        tickvals = _numbers(axis.get("tickvals"))
        if tickvals:
            labels = _log_labels([math.log10(v) for v in tickvals if v > 0], axis)
        else:
            # a log axis's range is in decades; the data are not
            rng = _range({"range": axis.get("range")}, [math.log10(v) for v in numbers if v > 0])
            if rng is None:
                return []
            lo, hi = rng
            if axis.get("range") is None:  # autorange pads: a decade just past the data may get its tick
                lo, hi = math.floor(lo + 1e-9), math.ceil(hi - 1e-9)
            decades = list(range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1)) or [round(lo)]
            labels = _log_labels([float(k) for k in decades], axis)
            if str(axis.get("dtick", "")).startswith("D"):
                labels += ["5"]
    else:
        tickvals = _numbers(axis.get("tickvals"))
        if tickvals:
            labels = [_decimal(v) for v in tickvals]
        else:
            rng = _range(axis, numbers)
            if rng is None:
                return []
            lo, hi = rng
            if axis.get("range") is None:
                pad = 0.05 * (hi - lo or abs(hi) or 1.0)
                lo, hi = lo - pad, hi + pad
            labels = _linear_labels(lo, hi, axis.get("tickformat"))
    return [f"{prefix}{label}{suffix}" for label in labels]


def _axis_values(spec: Mapping[str, Any], ref: str, letter: str) -> list[Any]:
    """Every value the traces on axis ``ref`` (e.g. "y2") put on it, in the figure and in its frames."""
    values: list[Any] = []
    traces = list(spec.get("data") or [])
    for frame in spec.get("frames") or []:
        for i, t in enumerate(frame.get("data") or []):
            target = (frame.get("traces") or list(range(len(frame.get("data") or []))))[i]
            base = traces[target] if isinstance(target, int) and target < len(traces) else {}
            traces.append({**base, **t})
    for t in traces:
        if (t.get(f"{letter}axis") or letter) != ref:
            continue
        kind = t.get("type", "scatter")
        if letter in t and t[letter] is not None:
            values.extend(_flat(t[letter]))
        elif kind == "heatmap" and t.get("z") is not None:
            rows, cols = _shape(t["z"])
            values.extend([0, max((rows if letter == "y" else cols) - 1, 0)])
        elif kind == "histogram":  # counts: at most every sample in one bin
            other = t.get("x" if letter == "y" else "y")
            values.extend([0, len(list(_flat(other)))])
        if kind == "bar" and (t.get("orientation") or "v") == ("v" if letter == "y" else "h"):
            values.append(0)  # bars start at zero
    return values


def _shape(z: Any) -> tuple[int, int]:
    if isinstance(z, Mapping) and "bdata" in z:
        dims = [int(n) for n in str(z.get("shape", "0")).split(",")]
        return (dims[0], dims[1] if len(dims) > 1 else 1)
    if hasattr(z, "shape"):
        return (z.shape[0], z.shape[1] if len(z.shape) > 1 else 1)
    rows = list(z) if isinstance(z, (list, tuple)) else []
    return (len(rows), len(rows[0]) if rows and isinstance(rows[0], (list, tuple)) else 1)


def _side_need(axis: Mapping[str, Any], labels: list[str], letter: str, font: float) -> float:
    size = float((axis.get("tickfont") or {}).get("size") or font)
    ticks = axis.get("ticks", "")
    ticklen = float(axis.get("ticklen", 5)) if ticks == "outside" else 0.0
    if letter == "y":
        label_px = max((text_px(s, size) for s in labels), default=0.0)
    else:
        label_px = 1.57 * size + 2.3 if labels else 0.0  # one line (with ticks: 42 px at 17 px, 53 px at 24 px)
    need = ticklen + TICK_PAD + label_px
    title = axis.get("title")
    title_text = title.get("text") if isinstance(title, Mapping) else title
    if title_text:
        title_size = float(((title if isinstance(title, Mapping) else {}).get("font") or {}).get("size") or font)
        need += 1.3 * title_size + TITLE_GAP[letter]
    return need


def margins_needed(spec: Mapping[str, Any], font: float | None = None) -> dict[str, int]:
    """Margins (px, per side "l", "b", "t", "r") that the figure's outer axes take: tick labels and titles of the
    y axes at the left edge and the x axes at the bottom edge, and the mirrored ticks on the top and right edges;
    ``font`` overrides the layout's type size."""
    layout = spec.get("layout") or {}
    font = float(font or (layout.get("font") or {}).get("size") or 17)
    need = {"l": 0.0, "b": 0.0, "t": 0.0, "r": 0.0}
    axes = {m.group(1) + m.group(2): (m.group(1), axis) for key, axis in layout.items()
            if (m := _AXIS.match(key)) and isinstance(axis, Mapping)}
    for trace in spec.get("data") or []:  # axes that only traces name take plotly's defaults
        for letter in "xy":
            ref = trace.get(f"{letter}axis") or letter
            axes.setdefault(ref, (letter, {}))
    for name, (letter, axis) in axes.items():
        if axis.get("visible") is False or axis.get("overlaying"):
            continue
        anchor = axis.get("anchor") or ("y" if letter == "x" else "x")
        lo, hi = (float(v) for v in (axes.get(anchor, (None, {}))[1].get("domain") or [0, 1]))
        near, far = ("l", "r") if letter == "y" else ("b", "t")
        if axis.get("side", "left" if letter == "y" else "bottom") not in ("left", "bottom"):
            near, far = far, near
            lo, hi = 1 - hi, 1 - lo
        labels = tick_labels(axis, _axis_values(spec, name, letter))
        if lo <= 0.01:
            need[near] = max(need[near], _side_need(axis, labels, letter, font))
        if hi >= 0.99 and axis.get("mirror") and axis.get("ticks") == "outside":  # ticks drawn again on the far edge
            need[far] = max(need[far], float(axis.get("ticklen", 5)) + 5)
        # a tick label at the axis's far end reaches past it by half its size (measured: 18-23 px above a y axis
        # at 14-24 px type, 24-26 px right of an x axis for a 3-digit label)
        if labels and float((axis.get("domain") or [0, 1])[1]) >= 0.99:
            size = float((axis.get("tickfont") or {}).get("size") or font)
            if letter == "y":
                need["t"] = max(need["t"], 0.6 * size + 10)
            else:
                need["r"] = max(need["r"], 0.5 * text_px(labels[-1], size) + 12)
    return {k: math.ceil(v + SLACK) if v else 0 for k, v in need.items()}
