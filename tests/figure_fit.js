/* Measures, in the page, whether every plotly figure fits: no text cut off, no text over other text, no
   sideways page scroll; and how ready the page is for a projector (smallest figure text, figure heights).

   One async function, evaluated by Playwright as `page.evaluate(source, options)` (tests/test_figures_fit.py,
   benchmarks/fit_report.py); any other test can reuse it the same way. Options (all optional):
     zoom        the browser zoom the page is emulating (1.5 for 150 %), to report on-screen font sizes (1)
     settle      wait until every figure is drawn and the layout has stopped moving before measuring (true)
     settleMs    how long nothing may move for the layout to count as settled (400)
     timeoutMs   give up waiting for the layout to settle after this long, and measure anyway (10000)
     clipTol     px a text may reach past the area that shows it (1)
     overlapTol  px two texts may overlap in both directions without counting as overlapping (2)
     gapEm       side by side on one line, two texts closer than this (em of the smaller) run together (0.2)
   Returns {viewport, scroll, figures, faults, minFontPx, settled}:
     scroll      {scrollWidth, clientWidth, offenders: [{what, right}]}: what sticks out on the right
     figures     per figure: {index, title, box, height, top, controls, minFontPx, nTexts}: `height` is the
                 on-screen height (CSS px × zoom = screen px) of the figure with all its texts, sliders and
                 menus, `top` where that starts relative to the figure's box (< 0 if something sticks out
                 above), `controls` [{what: 'slider'|'menu', y, height}] each control's place in the figure,
                 `heightWithCaption` the same with the HTML <figcaption> the book may show as its title,
                 `minFontPx` its smallest text (the caption's included, `captionFontPx`)
     faults      [{kind: 'clipped'|'overlap'|'page-scroll', figure, title, texts, severity, message}]
     minFontPx   the smallest on-screen size (computed font-size × scale × zoom) of any visible figure text
                 (projector mode asks ≥ 24 px at 1280 × 720, and each figure's heightWithCaption ≤ 720)
   Everything is discovered from the page (`.js-plotly-plot`), so a new chapter needs no change here. */
async (options = {}) => {
  const o = Object.assign({zoom: 1, settle: true, settleMs: 400, timeoutMs: 10000, clipTol: 1, overlapTol: 2,
                           gapEm: 0.2},
                          options || {});
  const figures = () => [...document.querySelectorAll('.js-plotly-plot')];
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const frame = () => new Promise(r => requestAnimationFrame(() => r()));

  // ---- waiting: every figure drawn, fonts loaded, then nothing moves for settleMs -----------------------
  function signature() {
    return figures().map(gd => {
      const r = gd.getBoundingClientRect();
      let s = `${gd.querySelectorAll('svg.main-svg').length}:${Math.round(r.width)}x${Math.round(r.height)}`;
      for (const t of gd.querySelectorAll('text')) {
        const b = t.getBoundingClientRect();
        s += `|${Math.round(b.left - r.left)},${Math.round(b.top - r.top)},${Math.round(b.width)}`;
      }
      return s;
    }).join('#') + `#${document.documentElement.scrollWidth}`;
  }
  let settled = true;
  if (o.settle) {
    const start = performance.now();
    const drawn = () => document.readyState === 'complete' &&
      [...document.querySelectorAll('.plotly-graph-div')].every(g => g.querySelector('svg.main-svg'));
    if (document.fonts && document.fonts.ready) await document.fonts.ready;
    let last = null, since = performance.now();
    settled = false;
    while (performance.now() - start < o.timeoutMs) {
      await frame();
      const sig = drawn() ? signature() : null;
      if (sig !== null && sig === last) {
        if (performance.now() - since >= o.settleMs) { settled = true; break; }
      } else { last = sig; since = performance.now(); }
      await sleep(50);
    }
  }

  // ---- geometry helpers -----------------------------------------------------------------------------
  const box = r => ({left: r.left, top: r.top, right: r.right, bottom: r.bottom});
  const meet = (a, b) => ({left: Math.max(a.left, b.left), top: Math.max(a.top, b.top),
                           right: Math.min(a.right, b.right), bottom: Math.min(a.bottom, b.bottom)});
  const grow = (a, b) => ({left: Math.min(a.left, b.left), top: Math.min(a.top, b.top),
                            right: Math.max(a.right, b.right), bottom: Math.max(a.bottom, b.bottom)});
  const empty = b => b.right - b.left <= 0.5 || b.bottom - b.top <= 0.5;
  const round = v => Math.round(v);
  const px = v => (Math.abs(v) < 10 ? v.toFixed(1) : String(Math.round(v)));
  const rel = (b, f) => `(${round(b.left - f.left)},${round(b.top - f.top)})–(${round(b.right - f.left)},` +
                        `${round(b.bottom - f.top)})`;
  const clean = s => (s || '').replace(/<br\s*\/?>/gi, ' / ').replace(/<[^>]*>/g, '').replace(/\s+/g, ' ').trim();
  const INK_TOP = 0.15;  // em of blank space at the top of a text's box
  const short = (s, n = 60) => (s.length > n ? s.slice(0, n - 1) + '…' : s);

  // The screen box of a clipPath (plotly clips plot areas, legends that scroll, and range-limited traces).
  // Its shapes are in the user space of the element that references it, so we map them with that
  // element's screen matrix.
  function clipBox(el) {
    const ref = el.getAttribute('clip-path') || (el.style && el.style.clipPath) || '';
    const m = ref.match(/#([^)"']+)/);
    if (!m) return null;
    const cp = document.getElementById(m[1]);
    if (!cp) return null;
    const ctm = el.getScreenCTM();
    let b = null;
    for (const shape of cp.children) {
      if (typeof shape.getBBox !== 'function') continue;
      let bb;
      try { bb = shape.getBBox(); } catch (e) { continue; }
      let mat = ctm;
      const tl = shape.transform && shape.transform.baseVal.consolidate();
      if (tl) mat = ctm.multiply(tl.matrix);
      const pts = [[bb.x, bb.y], [bb.x + bb.width, bb.y], [bb.x, bb.y + bb.height],
                   [bb.x + bb.width, bb.y + bb.height]].map(([x, y]) => new DOMPoint(x, y).matrixTransform(mat));
      const xs = pts.map(p => p.x), ys = pts.map(p => p.y);
      const sb = {left: Math.min(...xs), top: Math.min(...ys), right: Math.max(...xs), bottom: Math.max(...ys)};
      b = b ? {left: Math.min(b.left, sb.left), top: Math.min(b.top, sb.top),
               right: Math.max(b.right, sb.right), bottom: Math.max(b.bottom, sb.bottom)} : sb;
    }
    return b;
  }

  // A figure's name in messages: its title, else what its axes or first annotation say.
  function figureName(gd) {
    const L = gd.layout || {};
    const text = t => clean(t && (typeof t === 'string' ? t : t.text));
    if (text(L.title)) return short(text(L.title));
    const figure = gd.closest('figure');  // the book may show the title as an HTML caption instead
    const caption = figure && figure.querySelector('figcaption');
    if (caption && clean(caption.innerText || caption.textContent)) return short(clean(caption.innerText || caption.textContent));
    const axes = Object.keys(L).filter(k => /^[xy]axis\d*$/.test(k)).sort()
      .map(k => text(L[k].title)).filter(Boolean);
    const notes = (L.annotations || []).map(a => clean(a.text)).filter(Boolean);
    const hint = axes.length ? `axes: ${axes.slice(0, 2).join(' / ')}` : notes.length ? `annotation: ${notes[0]}` : '';
    return hint ? short(`(untitled; ${hint})`) : '(untitled)';
  }

  // Outlines as four corners; two convex outlines overlap as deep as their smallest overlap along the
  // edges' normals (separating axis theorem): for upright boxes, the smaller of width and height overlaps.
  const corners = b => [{x: b.left, y: b.top}, {x: b.right, y: b.top}, {x: b.right, y: b.bottom}, {x: b.left, y: b.bottom}];
  const outline = item => item.quad || corners(item.box);
  function penetration(P, Q) {
    let depth = Infinity;
    for (const poly of [P, Q]) {
      for (let i = 0; i < poly.length; i++) {
        const a = poly[i], b = poly[(i + 1) % poly.length];
        const len = Math.hypot(b.x - a.x, b.y - a.y);
        if (len < 1e-9) continue;
        const nx = (b.y - a.y) / len, ny = (a.x - b.x) / len;
        const p = P.map(v => v.x * nx + v.y * ny), q = Q.map(v => v.x * nx + v.y * ny);
        depth = Math.min(depth, Math.min(Math.max(...p), Math.max(...q)) - Math.max(Math.min(...p), Math.min(...q)));
      }
    }
    return depth;
  }

  // What the text is, in words a developer can find in the figure's layout.
  function kindOf(t) {
    const c = n => (n && n.getAttribute && n.getAttribute('class')) || '';
    const own = c(t), parent = c(t.parentElement);
    if (/\bgtitle\b/.test(own)) return 'title';
    let m = own.match(/\b([xy]\d*)title\b/);
    if (m) return `${m[1]} axis title`;
    if (/\blegendtitletext\b/.test(own)) return 'legend title';
    if (/\blegendtext\b/.test(own)) return 'legend';
    if (/\bannotation-text\b/.test(own)) return 'annotation';
    if (/\bupdatemenu-item-text\b/.test(own)) return 'menu button';
    if (/\bupdatemenu-header-arrow\b/.test(own)) return 'menu arrow';
    if (/\bslider-label\b/.test(own)) return /\bslider-label-group\b/.test(parent) ? 'slider tick' : 'slider value';
    if (/\bcbtitle\b/.test(own) || t.closest('.cbtitle')) return 'colorbar title';
    if (t.closest('.colorbar, .cbaxis')) return 'colorbar tick';
    if (/\btextpoint\b/.test(parent) || /\btextpoint\b/.test(own) || t.closest('.heatmaplayer, .trace'))
      return 'trace text';
    m = parent.match(/\b([xy]\d*)tick\b/);
    if (m) return `${m[1]} tick`;
    return 'text';
  }

  // Is the element drawn at all (display, visibility, opacity; for a text also its paint)?
  function drawn(n, gd) {
    const cs = getComputedStyle(n);
    if (cs.visibility === 'hidden' || cs.visibility === 'collapse') return false;
    for (; n && n !== gd.parentElement; n = n.parentElement) {
      const s = getComputedStyle(n);
      if (s.display === 'none' || parseFloat(s.opacity) === 0) return false;
    }
    return true;
  }
  function shown(t, gd) {
    if (!drawn(t, gd)) return false;
    const cs = getComputedStyle(t);
    const noFill = cs.fill === 'none' || parseFloat(cs.fillOpacity) === 0 || /rgba\(.*,\s*0\)$/.test(cs.fill);
    const noStroke = cs.stroke === 'none' || parseFloat(cs.strokeOpacity) === 0 || parseFloat(cs.strokeWidth) === 0;
    return !(noFill && noStroke);
  }

  // ---- the page: no sideways scroll ------------------------------------------------------------------
  const root = document.scrollingElement || document.documentElement;
  const clientWidth = root.clientWidth;
  const scroll = {scrollWidth: root.scrollWidth, clientWidth, offenders: []};
  const faults = [];
  if (root.scrollWidth > clientWidth + 0.5) {
    // The outermost elements that reach past the right edge: what a developer must make narrower.
    const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
      (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\s+/).slice(0, 3).join('.') : '');
    const out = [];
    for (const e of document.body.querySelectorAll('*')) {
      const r = e.getBoundingClientRect();
      if (r.width === 0 || r.right <= clientWidth + 1) continue;
      if (out.some(x => x.el.contains(e))) continue;
      out.push({el: e, what: name(e), right: round(r.right + window.scrollX)});
      if (out.length >= 8) break;
    }
    scroll.offenders = out.map(x => ({what: x.what, right: x.right}));
    faults.push({kind: 'page-scroll', figure: null, title: null, texts: [], severity: root.scrollWidth - clientWidth,
                 message: `the page scrolls sideways: scrollWidth ${root.scrollWidth} > clientWidth ${clientWidth}; ` +
                          `sticking out: ${scroll.offenders.map(x => `${x.what} (to x=${x.right})`).join(', ')}`});
  }

  // ---- every figure --------------------------------------------------------------------------------
  let pageMinFont = Infinity;
  const figs = [];
  figures().forEach((gd, index) => {
    // The figure is what its SVG draws (the div around it may be wider than a fixed-size figure).
    const canvas = gd.querySelector('.svg-container') || gd;
    const fr = canvas.getBoundingClientRect();
    const fbox = box(fr);
    const title = figureName(gd);
    const where = `figure ${index} "${title}" (${round(fr.width)}×${round(fr.height)})`;
    // What the reader can see of the figure: its own box, cut by every ancestor that clips
    // (an output cell that scrolls sideways, the page's column) and by the window's width.
    let area = fbox;
    let clipper = 'the figure';
    for (let n = gd.parentElement; n && n !== document.documentElement; n = n.parentElement) {
      const s = getComputedStyle(n);
      if (s.overflowX !== 'visible' || s.overflowY !== 'visible') {
        const nb = box(n.getBoundingClientRect());
        const before = area;
        area = meet(area, {left: nb.left + n.clientLeft, top: nb.top + n.clientTop,
                           right: nb.left + n.clientLeft + n.clientWidth, bottom: nb.top + n.clientTop + n.clientHeight});
        if (area.right < before.right - 0.5 || area.left > before.left + 0.5) clipper = `its container <${n.tagName.toLowerCase()} class="${n.className}">`;
      }
    }
    const win = {left: -window.scrollX, top: -Infinity, right: clientWidth - window.scrollX, bottom: Infinity};
    if (area.right > win.right + 0.5 || area.left < win.left - 0.5) clipper = 'the window';
    area = meet(area, win);

    const texts = [];
    let figMinFont = Infinity;
    let union = Object.assign({}, fbox);
    for (const t of gd.querySelectorAll('text')) {
      if (t.closest('defs, clipPath, .hoverlayer, .modebar')) continue;
      const lines = [...t.querySelectorAll('tspan.line')];
      const label = clean(lines.length > 1 ? lines.map(l => l.textContent).join(' / ') : t.textContent);
      if (!label || !shown(t, gd)) continue;
      const layout = box(t.getBoundingClientRect());
      if (empty(layout)) continue;
      const ctm = t.getScreenCTM();
      const scale = ctm ? Math.sqrt(Math.abs(ctm.a * ctm.d - ctm.b * ctm.c)) : 1;
      const ownFont = parseFloat(getComputedStyle(t).fontSize);
      const cssFont = ownFont * scale;
      // The box a text's letters can fill: the element's box less the font's blank space above its tallest
      // glyphs (a box is ascent + descent, 1.12 em in Liberation Sans / Arial; digits and capitals reach
      // 0.72 em above the baseline, brackets 0.75 em), so lines of text that only touch do not overlap.
      // Taken in the text's own coordinates and mapped to the screen, so a rotated text (a y axis title,
      // slanted tick labels) keeps its true, slanted outline (`quad`) for the overlap test.
      let ink, quad = null;
      const bb = ctm ? t.getBBox() : null;
      if (bb && bb.width > 0) {
        const top = bb.y + Math.min(INK_TOP * ownFont, bb.height);
        quad = [[bb.x, top], [bb.x + bb.width, top], [bb.x + bb.width, bb.y + bb.height], [bb.x, bb.y + bb.height]]
          .map(([x, y]) => new DOMPoint(x, y).matrixTransform(ctm));
        ink = {left: Math.min(...quad.map(p => p.x)), right: Math.max(...quad.map(p => p.x)),
               top: Math.min(...quad.map(p => p.y)), bottom: Math.max(...quad.map(p => p.y))};
        if (Math.abs(ctm.b) < 1e-3 && Math.abs(ctm.c) < 1e-3) quad = null;  // upright: its box says it all
      } else {
        ink = Object.assign({}, layout, {top: Math.min(layout.top + INK_TOP * cssFont, layout.bottom)});
      }
      // Plotly's own clip-paths (plot areas, scrolling legends): what they hide entirely is not drawn;
      // what they cut in part is cut text.
      let seen = ink, cutBy = null;
      for (let n = t; n && n !== gd; n = n.parentElement) {
        const cb = n.getAttribute && n.getAttribute('clip-path') ? clipBox(n) : null;
        if (!cb) continue;
        const next = meet(seen, cb);
        if (empty(next)) { seen = next; break; }
        if (next.right - next.left < seen.right - seen.left - o.clipTol ||
            next.bottom - next.top < seen.bottom - seen.top - o.clipTol) {
          cutBy = (n.getAttribute('class') || n.tagName).split(/\s+/)[0];
        }
        seen = next;
      }
      if (empty(seen)) continue;
      const kind = kindOf(t);
      figMinFont = Math.min(figMinFont, cssFont * o.zoom);
      union = grow(union, layout);
      // A legend entry is its text and its symbol: a text over the symbol hides which trace it names.
      let hit = seen;
      const entry = kind === 'legend' && t.closest('.traces');
      const symbol = entry && entry.querySelector(':scope > .layers, .legendsymbols');
      if (symbol) {
        const sb = box(symbol.getBoundingClientRect());
        if (!empty(sb)) hit = grow(hit, sb);
      }
      const item = {kind, text: short(label, 50), box: hit, quad, el: t, fontPx: cssFont * o.zoom};
      item.describe = `${kind} "${item.text}" at ${rel(layout, fbox)}`;
      texts.push(item);
      if (cutBy) {
        const lost = Math.max(ink.right - seen.right, seen.left - ink.left, ink.bottom - seen.bottom, seen.top - ink.top);
        faults.push({kind: 'clipped', figure: index, title, texts: [item.describe], severity: lost,
                     message: `${where}: ${item.describe} is cut by plotly's clip-path "${cutBy}" (${round(lost)} px hidden)`});
        continue;
      }
      const edges = [['left', area.left - ink.left], ['right', ink.right - area.right],
                     ['top', area.top - ink.top], ['bottom', ink.bottom - area.bottom]]
        .filter(([, d]) => d > o.clipTol);
      if (edges.length) {
        const lost = Math.max(...edges.map(([, d]) => d));
        faults.push({kind: 'clipped', figure: index, title, texts: [item.describe], severity: lost,
                     message: `${where}: ${item.describe} runs past ${clipper}: ` +
                              edges.map(([e, d]) => `${round(d)} px beyond the ${e} edge`).join(', ')});
      }
    }

    // Two texts over each other: the parts the reader would see overlap by more than overlapTol both ways.
    const overlap = (a, b) => [Math.min(a.right, b.right) - Math.max(a.left, b.left),
                               Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top)];
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        const a = texts[i], b = texts[j];
        // A dropdown's label and its own arrow are one button (plotly sizes it to the widest label).
        const header = (t) => t.el.closest('.updatemenu-header-group');
        if (header(a) && header(a) === header(b)) continue;
        if (a.quad || b.quad) {  // a slanted text: how deep their true outlines overlap
          const depth = penetration(outline(a), outline(b));
          if (depth > o.overlapTol) {
            faults.push({kind: 'overlap', figure: index, title, texts: [a.describe, b.describe], severity: depth * depth,
                         message: `${where}: ${a.describe} overlaps ${b.describe} (slanted, ${px(depth)} px deep)`});
          }
          continue;
        }
        const [w, h] = overlap(a.box, b.box);
        if (w > o.overlapTol && h > o.overlapTol) {
          faults.push({kind: 'overlap', figure: index, title, texts: [a.describe, b.describe], severity: w * h,
                       message: `${where}: ${a.describe} overlaps ${b.describe} by ${px(w)}×${px(h)} px`});
          continue;
        }
        // Side by side on one line with less than a fraction of a space between them, two labels read as
        // one word ("010⁻²1 10²∞"): run together, though their boxes do not overlap.
        const em = Math.min(a.fontPx, b.fontPx) / o.zoom;
        const lineH = Math.min(a.box.bottom - a.box.top, b.box.bottom - b.box.top);
        if (h > 0.5 * lineH && w > -o.gapEm * em && !(w > o.overlapTol)) {
          faults.push({kind: 'overlap', figure: index, title, texts: [a.describe, b.describe],
                       severity: (w + o.gapEm * em) * h,
                       message: `${where}: ${a.describe} runs into ${b.describe} (${w > 0 ? `overlapping ${round(w)} px` : `${(-w).toFixed(1)} px apart`}, ` +
                                `less than ${o.gapEm} em: they read as one)`});
        }
      }
    }
    // Text over a control: a slider's rail, grip and tick marks, or a menu's button, hides the text or
    // the control (the control's own labels excepted).
    const controlParts = [];
    for (const g of gd.querySelectorAll('.slider-group')) {
      const parts = [...g.querySelectorAll('.slider-rail-rect, .slider-grip-rect, .slider-tick-rect')]
        .map(r => box(r.getBoundingClientRect())).filter(r => !empty(r));
      if (parts.length) controlParts.push({el: g, what: 'slider', parts});
    }
    for (const g of gd.querySelectorAll('.updatemenu-button, .updatemenu-header')) {
      const r = g.querySelector('.updatemenu-item-rect');
      const rb = r && box(r.getBoundingClientRect());
      // A dropdown's header and its arrow are one control.
      const owner = g.closest('.updatemenu-header-group') || g;
      if (rb && !empty(rb) && drawn(r, gd)) controlParts.push({el: owner, what: 'menu button', parts: [rb]});
    }
    for (const c of controlParts) {
      const bounds = c.parts.reduce(grow);
      const cdesc = `the ${c.what} at ${rel(bounds, fbox)}`;
      for (const a of texts) {
        if (c.el.contains(a.el)) continue;
        for (const part of c.parts) {
          const [w, h] = a.quad ? Array(2).fill(penetration(outline(a), corners(part))) : overlap(a.box, part);
          if (w > o.overlapTol && h > o.overlapTol) {
            faults.push({kind: 'overlap', figure: index, title, texts: [a.describe, cdesc], severity: w * h,
                         message: `${where}: ${a.describe} lies on ${cdesc} (${px(w)}×${px(h)} px)`});
            break;
          }
        }
      }
    }

    // Projector readiness: the figure's height on screen with its sliders and menus, and its smallest text.
    const controls = [];
    for (const c of gd.querySelectorAll('.slider-group, .updatemenu-header-group, .updatemenu-button')) {
      if (c.classList.contains('updatemenu-button') && c.closest('.updatemenu-header-group')) continue;
      const r = box(c.getBoundingClientRect());
      if (empty(r) || !drawn(c, gd)) continue;
      union = grow(union, r);
      controls.push({what: c.classList.contains('slider-group') ? 'slider' : 'menu',
                     y: (r.top - fbox.top) * o.zoom, height: (r.bottom - r.top) * o.zoom});
    }
    // The book may show a figure's title as an HTML caption above it: part of what the reader must see.
    const figure = gd.closest('figure');
    const caption = figure && figure.querySelector('figcaption');
    let withCaption = union, captionFontPx = null;
    if (caption && clean(caption.textContent) && drawn(caption, figure)) {
      const cb = box(caption.getBoundingClientRect());
      if (!empty(cb)) {
        withCaption = grow(union, cb);
        captionFontPx = parseFloat(getComputedStyle(caption).fontSize) * o.zoom;
        figMinFont = Math.min(figMinFont, captionFontPx);
      }
    }
    pageMinFont = Math.min(pageMinFont, figMinFont);
    figs.push({index, title, box: {x: fr.left + window.scrollX, y: fr.top + window.scrollY, width: fr.width, height: fr.height},
               height: (union.bottom - union.top) * o.zoom,
               top: (union.top - fbox.top) * o.zoom, controls,
               heightWithCaption: (withCaption.bottom - withCaption.top) * o.zoom, captionFontPx,
               minFontPx: Number.isFinite(figMinFont) ? figMinFont : null, nTexts: texts.length});
  });

  return {viewport: {width: window.innerWidth, height: window.innerHeight, dpr: window.devicePixelRatio},
          scroll, figures: figs, faults, settled,
          minFontPx: Number.isFinite(pageMinFont) ? pageMinFont : null};
}
