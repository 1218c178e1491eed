// Bar charts in SVG, readable without colour: each series has its own fill pattern, the legend
// names them in words, every bar carries a <title> with its exact value, day labels are <text>,
// and the chart as a whole has role="img" with a summary in aria-label. Each series has its own
// scale (speech seconds and chat tokens are not comparable), drawn on its own axis.

import { t, localize, fmtNum } from "./i18n.js";
import { h } from "./dom.js";

const PATTERNS = {
  hatch: (id) => h("pattern", { id, width: "6", height: "6", patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
    h("rect", { width: "6", height: "6", class: "pat-bg pat-bg-a" }),
    h("line", { x1: "0", y1: "0", x2: "0", y2: "6", class: "pat-fg pat-fg-a" })),
  dots: (id) => h("pattern", { id, width: "6", height: "6", patternUnits: "userSpaceOnUse" },
    h("rect", { width: "6", height: "6", class: "pat-bg pat-bg-b" }),
    h("circle", { cx: "3", cy: "3", r: "1.7", class: "pat-fg pat-fg-b" })),
};

const MIN_WIDTH = 720;

/** Roughly how wide a 13 px legend text is: CJK characters are about twice as wide as Latin. */
const textWidth = (text) => [...text].reduce((sum, ch) => sum + (ch.charCodeAt(0) > 0x2e80 ? 13 : 7.5), 0);

/** Rounds up to 1, 2 or 5 × a power of ten. */
function niceCeil(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/**
 * barChart(id, {days, series: [{key, labelKey, values, format(v) → string, pattern}], labelKey,
 * labelArgs}) → <svg>. `format` gives the exact value in words, e.g. "61.234 s".
 */
export function barChart(id, spec) {
  const svg = h("svg", { id, class: "chart", role: "img", xmlns: "http://www.w3.org/2000/svg" });
  localize(svg, () => draw(svg, id, spec));
  return svg;
}

function draw(svg, id, spec) {
  const { days, series } = spec;
  while (svg.firstChild) svg.firstChild.remove();
  const n = Math.max(days.length, 1);
  const left = 64;
  const right = series.length > 1 ? 64 : 16;
  // Few days: wider groups and bars, so the chart is not blown up to fill its box.
  const groupW = Math.max(series.length * 12 + 10, 26, (MIN_WIDTH - left - right) / n);
  const barW = Math.min(28, (groupW - 10) / series.length);
  const top = 40;
  const rotate = n > 10;
  const bottom = rotate ? 62 : 30;
  const plotH = 170;
  const width = left + right + n * groupW;
  const height = top + plotH + bottom;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  // Scales to its box, but not below a size where bars and labels stay legible (the wrapper
  // scrolls sideways instead). CSSOM, not a style attribute: the CSP allows only this.
  svg.style.minWidth = `${Math.round(width * 0.6)}px`;
  svg.style.maxWidth = `${Math.round(width * 1.3)}px`;
  svg.setAttribute("aria-label", t(spec.labelKey, spec.labelArgs));
  svg.append(h("title", { text: t(spec.labelKey, spec.labelArgs) }));

  const defs = h("defs");
  series.forEach((s) => defs.append(PATTERNS[s.pattern](`${id}-pat-${s.key}`)));
  svg.append(defs);

  // Legend: a swatch with the series' pattern and its name in words.
  let x = left;
  series.forEach((s) => {
    const label = t(s.labelKey);
    svg.append(
      h("rect", { x: String(x), y: "8", width: "18", height: "14", fill: `url(#${id}-pat-${s.key})`, class: "bar-outline" }),
      h("text", { x: String(x + 24), y: "20", class: "legend" }, label));
    x += 24 + textWidth(label) + 28;
  });

  const scales = series.map((s) => niceCeil(Math.max(0, ...s.values)));
  const baseY = top + plotH;

  // Axes: the first series on the left, the second (if any) on the right, each with 0, ½, max.
  series.slice(0, 2).forEach((s, i) => {
    const axisX = i === 0 ? left - 6 : width - right + 6;
    for (const fraction of [0, 0.5, 1]) {
      const y = baseY - fraction * plotH;
      if (i === 0) svg.append(h("line", { x1: String(left), x2: String(width - right), y1: String(y), y2: String(y), class: "grid" }));
      svg.append(h("text", {
        x: String(axisX), y: String(y + 4), class: "axis", "text-anchor": i === 0 ? "end" : "start",
      }, fmtNum(scales[i] * fraction, 2)));
    }
    svg.append(h("text", {
      x: String(i === 0 ? 4 : width - 4), y: String(top - 6), class: "axis axis-unit", "text-anchor": i === 0 ? "start" : "end",
    }, t(s.unitKey)));
  });

  days.forEach((day, d) => {
    const groupX = left + d * groupW + (groupW - series.length * barW) / 2;
    series.forEach((s, i) => {
      const value = s.values[d] || 0;
      const barH = value > 0 ? Math.max(1, (value / scales[i]) * plotH) : 0;
      const rect = h("rect", {
        x: String(groupX + i * barW), y: String(baseY - barH), width: String(barW - 2), height: String(barH),
        fill: `url(#${id}-pat-${s.key})`, class: `bar bar-outline bar-${s.key}`, "data-day": day, "data-value": String(value),
      });
      rect.append(h("title", { text: t("chart.barTitle", { day, series: t(s.labelKey), value: s.format(value) }) }));
      svg.append(rect);
    });
    const labelX = left + d * groupW + groupW / 2;
    const labelY = baseY + 16;
    svg.append(h("text", {
      x: String(labelX), y: String(labelY), class: "day", "text-anchor": rotate ? "end" : "middle",
      transform: rotate ? `rotate(-60 ${labelX} ${labelY})` : null,
    }, day.slice(5)));
  });
  svg.append(h("line", { x1: String(left), x2: String(width - right), y1: String(baseY), y2: String(baseY), class: "baseline" }));
}
