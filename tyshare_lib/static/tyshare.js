/* tyshare.js: the built book's figures, for every reader (issue 7).
 *
 * Each figure arrives as <figure class="tyshare-figure"> holding a caption (its title), a text alternative,
 * an empty plot and a JSON spec written by tyshare_lib.viz.style.figure_html. This script
 *   - draws each figure as soon as the parser has read it (it runs in the page's head, not deferred), one per
 *     task, the figures in view first, then the others in page order (the formulas need nothing: they are
 *     typeset when the book is built, tyshare_lib/sphinx_math.py); an animation's frames after that, once the
 *     page has loaded (or when the reader reaches for the animation);
 *   - merges the spec's variants in: "narrow" below spec.narrow_px wide, "projector" in projector mode,
 *     "dark" in the theme's dark mode (the variants are computed in Python: tyshare_lib/viz/adaptive.py);
 *   - keeps the caption in step with the frame shown (frames carry their title in layout.meta.title);
 *   - gives every plotly slider a keyboard twin: a range input (Tab, arrow keys, Home/End), a play/pause
 *     button (Space or Enter) and, for a menu of groups, a <select>, announced by screen readers;
 *   - adds the projector button to the page header; ?projector (or ?projector=0) in the URL switches it,
 *     and the choice is remembered across pages.
 */
(function () {
  "use strict";
  const STORE = "tyshare-projector";
  const root = document.documentElement;
  const figures = [];

  // ------------------------------------------------------------------ modes
  function projectorWanted() {
    const query = new URLSearchParams(window.location.search);
    if (query.has("projector")) {
      const on = !["0", "off", "false", "no"].includes((query.get("projector") || "").toLowerCase());
      try { window.localStorage.setItem(STORE, on ? "1" : "0"); } catch (e) { /* private mode: this page only */ }
      return on;
    }
    try { return window.localStorage.getItem(STORE) === "1"; } catch (e) { return false; }
  }
  const mode = { projector: projectorWanted(), dark: root.dataset.theme === "dark" };
  root.classList.toggle("tyshare-projector", mode.projector);

  // ------------------------------------------------------------------ composing a figure
  function isPlainObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }

  /* b merged into a: objects key by key, arrays of objects element by element, anything else replaced. */
  function merge(a, b) {
    if (Array.isArray(b)) {
      if (Array.isArray(a) && b.every(isPlainObject)) {
        return a.map((x, i) => (i < b.length ? merge(x, b[i]) : x)).concat(b.slice(a.length));
      }
      return b.slice();
    }
    if (isPlainObject(b)) {
      const out = isPlainObject(a) ? Object.assign({}, a) : {};
      for (const key of Object.keys(b)) out[key] = merge(out[key], b[key]);
      return out;
    }
    return b;
  }

  function composed(fig) {
    const spec = fig.spec;
    const width = fig.div.getBoundingClientRect().width || fig.el.getBoundingClientRect().width;
    const narrow = width > 0 && width < spec.narrow_px;
    let layout = spec.layout;
    let data = spec.data;
    const use = (variant) => {
      layout = merge(layout, variant.layout || {});
      const traces = variant.traces || [];
      data = data.map((trace, i) => (traces[i] ? merge(trace, traces[i]) : trace));
    };
    if (narrow) use(spec.variants.narrow);
    if (mode.projector) use(spec.variants.projector);
    if (mode.dark) use(spec.variants.dark);
    return { data, layout, narrow, key: [narrow, mode.projector, mode.dark].join() };
  }

  // ------------------------------------------------------------------ drawing
  function draw(fig) {
    if (fig.drawn || fig.drawing) return fig.drawing;
    const c = composed(fig);
    fig.key = c.key;
    fig.div.style.height = "";
    // An animation's frames come later (framesLater): the first drawing needs none of them (figure_html keeps them
    // apart, unparsed until then).
    fig.drawing = Plotly.newPlot(fig.div, { data: c.data, layout: c.layout, config: fig.spec.config })
      .then(() => {
        fig.drawn = true;
        if (fig.hasFrames) framesLater(fig);
        wire(fig);
        return fig;
      });
    return fig.drawing;
  }

  /* An animation's frames wait until the page has loaded and every figure is drawn (schedule): on the convolution
   * page they are 2.3 MB, 80-110 ms to parse and add, which held back the figures after it. A reader who reaches for
   * the figure before then gets them at once: a pointer pressed on it, or its keyboard twin used, adds them first
   * (Plotly.addFrames modifies the frames before it returns), before plotly's slider or play button sees the press. */
  const framesWaiting = [];
  function framesLater(fig) {
    framesWaiting.push(fig);
    fig.el.addEventListener("pointerdown", () => addFrames(fig), { capture: true, once: true });
  }

  /* An animation's frames, if they still wait (a redraw in between, for a new width, dark mode or the projector, has
   * added them already). If they fail, the error goes to the console and the figure stays as drawn. */
  function addFrames(fig) {
    const waiting = framesWaiting.indexOf(fig);
    if (waiting < 0) return;
    framesWaiting.splice(waiting, 1);
    const have = fig.div._transitionData && fig.div._transitionData._frames;
    if (have && have.length) return;
    const failed = (e) => console.error("tyshare: an animation's frames were not added", e);
    try { Plotly.addFrames(fig.div, fig.frames).catch(failed); } catch (e) { failed(e); }
  }

  /* Draw again if the width crossed the narrow line or a mode changed; the figure keeps its group and step. */
  function redraw(fig, force) {
    if (!fig.drawn) return;
    const c = composed(fig);
    if (!force && c.key === fig.key) { Plotly.Plots.resize(fig.div); return; }
    fig.key = c.key;
    const gd = fig.div;
    const i = visibleSlider(gd);
    const slider = i >= 0 ? gd.layout.sliders[i] : null;
    const step = slider ? (slider.active || 0) : 0;
    const menus = ((gd.layout.updatemenus || []).map((m) => m.active));
    Plotly.react(gd, { data: c.data, layout: c.layout, config: fig.spec.config, frames: fig.frames })
      .then(() => {
        if (!slider) return syncKeys(fig);
        // Back to where the reader was: through the group's first frame (which carries what the group's
        // frames share), then the step.
        const first = slider.steps[0].args[0][0], here = slider.steps[step].args[0][0];
        const update = { [`sliders[${i}].active`]: step };
        menus.forEach((active, m) => { if (active !== undefined) update[`updatemenus[${m}].active`] = active; });
        return Plotly.animate(gd, first === here ? [here] : [first, here],
                              { mode: "immediate", frame: { duration: 0, redraw: true }, transition: { duration: 0 } })
          .then(() => Plotly.relayout(gd, update)).then(() => syncKeys(fig));
      });
  }

  function inView(el, margin) {
    const r = el.getBoundingClientRect();
    if (!r.width && !r.height) return false;  // not shown (e.g. in a closed <details>)
    return r.bottom > -margin && r.top < window.innerHeight + margin;
  }

  /* Draws the registered figures one at a time (the page stays responsive, and the parser goes on between two
   * figures): the first figure in view (or near it) first, else the first in page order. Figures are registered as
   * the parser reaches them (an inline call after each figure, figure_html), so the first figure is drawn while the
   * rest of the page is still being parsed. plotly.js's script tag comes just before the page's first figure
   * (sphinx_ext), so it is there by then. The reader's first screen comes first: nothing is drawn before the
   * browser has painted once. After that, a figure the parser has just reached, when no other waits, is drawn at
   * once (`now`), in the parser's task: waiting for a task of its own let the browser lay out and paint the page
   * parsed so far first, 20-60 ms a figure (bench_pages.py, A/B with the frames apart: all figures drawn 110-210 ms
   * sooner on the tying and autoencoder pages, the others within noise); one that waits with others, in a task of
   * its own, the one in view first. */
  let drawing = false;
  function schedule(now) {
    if (drawing || !window.Plotly) return;
    if (!figures.some((f) => !f.drawn && !f.failed)) {  // every figure drawn: then the frames, one animation a task
      if (framesWaiting.length && document.readyState === "complete") {
        drawing = true;
        setTimeout(() => { drawing = false; addFrames(framesWaiting[0]); schedule(); }, 0);
      }
      return;
    }
    drawing = true;
    const go = () => {
      const waiting = figures.filter((f) => !f.drawn && !f.failed);
      const fig = waiting.find((f) => inView(f.el, 200)) || waiting[0];
      const done = () => { drawing = false; schedule(); };
      let drawn;
      try { drawn = draw(fig); } catch (e) { drawn = Promise.reject(e); }
      drawn.then(done, (e) => { fig.failed = true; done(); throw e; });  // the others are still drawn
    };
    const painted = performance.getEntriesByType("paint").some((e) => e.name === "first-contentful-paint");
    if (painted && now) go(); else if (painted) setTimeout(go, 0); else requestAnimationFrame(() => setTimeout(go, 0));
  }

  // ------------------------------------------------------------------ caption and keyboard
  function visibleSlider(gd) {
    const sliders = (gd.layout && gd.layout.sliders) || [];
    return sliders.findIndex((s) => s.visible !== false);
  }

  function syncCaption(fig) {
    const meta = fig.div.layout && fig.div.layout.meta;
    const title = meta && typeof meta.title === "string" ? meta.title : fig.spec.title;
    if (title !== fig.shownTitle) { fig.caption.innerHTML = title; fig.shownTitle = title; }
  }

  function goTo(fig, k) {
    addFrames(fig);
    const gd = fig.div;
    const i = visibleSlider(gd);
    if (i < 0) return;
    const steps = gd.layout.sliders[i].steps;
    const step = steps[Math.max(0, Math.min(steps.length - 1, k))];
    Plotly.relayout(gd, { [`sliders[${i}].active`]: steps.indexOf(step) })
      .then(() => Plotly.animate(gd, step.args[0], step.args[1]));
  }

  function playMenu(gd) {
    return ((gd.layout && gd.layout.updatemenus) || []).find((m) => m.type === "buttons" && m.visible !== false);
  }

  function syncKeys(fig) {
    syncCaption(fig);
    const gd = fig.div;
    // The drawing is described by the figure's text alternative; its hundreds of labels are noise to a screen reader.
    gd.querySelectorAll("svg.main-svg").forEach((svg) => svg.setAttribute("aria-hidden", "true"));
    const i = visibleSlider(gd);
    if (!fig.keys || i < 0) return;
    const slider = gd.layout.sliders[i];
    const k = slider.active || 0;
    const label = slider.steps[k] ? String(slider.steps[k].label) : "";
    fig.range.max = String(slider.steps.length - 1);
    fig.range.value = String(k);
    fig.range.setAttribute("aria-valuetext", `${(slider.currentvalue && slider.currentvalue.prefix) || ""}${label}`);
    if (fig.play) fig.play.hidden = !playMenu(gd);
    if (fig.menu) fig.menu.select.value = String(gd.layout.updatemenus[fig.menu.index].active || 0);
  }

  function wire(fig) {
    const gd = fig.div;
    syncCaption(fig);
    gd.on("plotly_animated", () => syncKeys(fig));
    gd.on("plotly_buttonclicked", () => setTimeout(() => syncKeys(fig), 0));
    gd.on("plotly_sliderchange", () => setTimeout(() => syncKeys(fig), 0));
    gd.on("plotly_animatingframe", () => setTimeout(() => syncKeys(fig), 0));
    gd.on("plotly_animationinterrupted", () => setPlaying(fig, false));
    gd.on("plotly_animated", () => setPlaying(fig, false));
    if (visibleSlider(gd) < 0 || fig.keys) { syncKeys(fig); return; }
    const slider = gd.layout.sliders[visibleSlider(gd)];
    const prefix = ((slider.currentvalue && slider.currentvalue.prefix) || "").replace(/[\s=:]+$/, "");
    const keys = document.createElement("div");
    keys.className = "tyshare-keys";
    const range = document.createElement("input");
    range.type = "range";
    range.min = "0";
    range.step = "1";
    range.className = "tyshare-key-slider";
    range.setAttribute("aria-label", `${prefix || "step"} (figure slider)`);
    range.addEventListener("input", () => goTo(fig, Number(range.value)));
    keys.appendChild(range);
    fig.range = range;
    const menu = playMenu(gd);
    if (menu) {
      const play = document.createElement("button");
      play.type = "button";
      play.className = "tyshare-key-play";
      play.textContent = "Play";
      play.setAttribute("aria-pressed", "false");
      play.addEventListener("click", () => {
        const m = playMenu(gd);
        if (!m) return;
        const [start, stop] = m.buttons;
        const playing = play.getAttribute("aria-pressed") === "true";
        const b = playing ? stop : start;
        addFrames(fig);
        Plotly.animate(gd, b.args[0], b.args[1]);
        setPlaying(fig, !playing);
      });
      keys.appendChild(play);
      fig.play = play;
    }
    const dropdown = ((gd.layout && gd.layout.updatemenus) || []).findIndex((m) => (m.type || "dropdown") === "dropdown");
    if (dropdown >= 0) {  // a menu of groups (e.g. kernel · stride · padding): a <select> twin
      const select = document.createElement("select");
      select.className = "tyshare-key-menu";
      select.setAttribute("aria-label", "figure menu");
      gd.layout.updatemenus[dropdown].buttons.forEach((b, k) => {
        const option = document.createElement("option");
        option.value = String(k);
        option.textContent = String(b.label).trim();
        select.appendChild(option);
      });
      select.value = String(gd.layout.updatemenus[dropdown].active || 0);
      select.addEventListener("change", () => {
        const k = Number(select.value);
        const b = gd.layout.updatemenus[dropdown].buttons[k];
        addFrames(fig);
        Plotly.relayout(gd, { [`updatemenus[${dropdown}].active`]: k }).then(() => Plotly.animate(gd, b.args[0], b.args[1]));
      });
      keys.insertBefore(select, range);
      fig.menu = { select, index: dropdown };
    }
    const hint = document.createElement("span");
    hint.className = "tyshare-key-hint";
    hint.setAttribute("aria-hidden", "true");
    hint.textContent = menu ? "← → move the slider · Space plays / pauses (Tab to the button)" : "← → move the slider";
    keys.appendChild(hint);
    fig.keys = keys;
    fig.el.insertBefore(keys, fig.div.nextSibling);
    syncKeys(fig);
  }

  function setPlaying(fig, on) {
    if (!fig.play) return;
    fig.play.setAttribute("aria-pressed", on ? "true" : "false");
    fig.play.textContent = on ? "Pause" : "Play";
  }

  // ------------------------------------------------------------------ projector button
  function addProjectorButton() {
    const bar = document.querySelector(".article-header-buttons");
    if (!bar || bar.querySelector(".tyshare-projector-button")) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-sm tyshare-projector-button";
    button.title = "Projector mode: large type and figures for a classroom screen";
    button.setAttribute("aria-label", "Projector mode");
    button.setAttribute("aria-pressed", String(mode.projector));
    button.innerHTML = '<span class="tyshare-projector-icon" aria-hidden="true">▣</span>';
    button.addEventListener("click", () => setProjector(!mode.projector));
    bar.insertBefore(button, bar.firstChild);
  }

  function setProjector(on) {
    mode.projector = on;
    try { window.localStorage.setItem(STORE, on ? "1" : "0"); } catch (e) { /* this page only */ }
    root.classList.toggle("tyshare-projector", on);
    const button = document.querySelector(".tyshare-projector-button");
    if (button) button.setAttribute("aria-pressed", String(on));
    figures.forEach((f) => redraw(f, true));
  }

  // ------------------------------------------------------------------ start
  /* One figure, registered once: by the inline call figure_html puts after it (as soon as it is parsed), or by the
   * scan when the page is parsed (a page built before that call existed). */
  function add(el) {
    if (el.tyshareFigure) return;
    const script = el.querySelector("script.tyshare-figure-spec");
    if (!script) return;
    const caption = el.querySelector(".tyshare-figure-title");
    const fig = { el, caption, div: el.querySelector(".tyshare-plot"), shownTitle: null };
    let spec = null;  // parsed when first needed: a page's specs can weigh megabytes (animation frames)
    Object.defineProperty(fig, "spec", { get: () => spec || (spec = JSON.parse(script.textContent)) });
    const framesScript = el.querySelector("script.tyshare-figure-frames");  // an animation's (figure_html)
    let frames = null;  // parsed when first needed, after the first drawing (framesLater)
    fig.hasFrames = !!framesScript;
    Object.defineProperty(fig, "frames", {
      get: () => frames || (frames = framesScript ? JSON.parse(framesScript.textContent) : []) });
    el.tyshareFigure = fig;
    figures.push(fig);
    schedule(figures.filter((f) => !f.drawn && !f.failed).length === 1);
  }

  function parsed() {
    document.querySelectorAll("figure.tyshare-figure").forEach(add);
    addProjectorButton();
    schedule();
  }

  new MutationObserver(() => {
    const dark = root.dataset.theme === "dark";
    if (dark !== mode.dark) { mode.dark = dark; figures.forEach((f) => redraw(f, true)); }
  }).observe(root, { attributes: true, attributeFilter: ["data-theme"] });
  let pendingResize = null;
  const onResize = () => {
    clearTimeout(pendingResize);
    pendingResize = setTimeout(() => figures.forEach((f) => redraw(f, false)), 100);
  };
  window.addEventListener("resize", onResize);
  window.addEventListener("load", onResize);  // the theme's sidebars settle the column width late
  window.addEventListener("load", () => schedule());  // the animations' frames

  window.tyshare = { mode, figures, setProjector, merge, add };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", parsed);
  else parsed();
})();
