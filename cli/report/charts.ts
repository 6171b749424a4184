import type { Outcome } from "../../shared/model";
import { escapeHtml } from "./html";

/**
 * The report's charts as inline SVG: drawn here, in the file, so that the report needs
 * nothing at view time (no script, no font, no image) and prints as it shows.
 */

/** Colours by outcome, the same families as the dashboard workbook's series. */
export const OUTCOME_COLORS: Readonly<Record<Outcome, string>> = {
  "in-sync": "#2e7d32",
  corrected: "#1565c0",
  drift: "#f9a825",
  suspended: "#9e9e9e",
  "in-progress": "#b0bec5",
  deferred: "#78909c",
  held: "#00897b",
  uncertain: "#d81b60",
  interrupted: "#4fc3f7",
  "not-converged": "#6a1b9a",
  conflict: "#ef6c00",
  "invalid-desired": "#ad1457",
  failed: "#c62828",
  gone: "#37474f",
};

/**
 * The dashboard workbook's named series colour per outcome (infra/workbooks, runs-per-hour),
 * the family of OUTCOME_COLORS above; test/infra/workbook.test.ts holds the workbook to it.
 */
export const WORKBOOK_COLORS: Readonly<Record<Outcome, string>> = {
  "in-sync": "green",
  corrected: "blue",
  drift: "yellow",
  suspended: "gray",
  "in-progress": "gray",
  deferred: "grayBlue",
  held: "turquoise",
  uncertain: "magenta",
  interrupted: "lightBlue",
  "not-converged": "purple",
  conflict: "orange",
  "invalid-desired": "redDark",
  failed: "redBright",
  gone: "gray",
};

/** Bottom to top of a stacked bar: the healthy outcomes first, failures on top where the eye lands. */
export const STACK_ORDER: readonly Outcome[] = ["in-sync", "corrected", "drift", "suspended", "in-progress", "deferred", "gone", "held", "uncertain", "interrupted", "not-converged", "conflict", "invalid-desired", "failed"];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface Binning {
  sizeInMs: number;
  unit: "hour" | "day" | "week";
}

/** Hours up to three days, days up to four months, weeks beyond: at most a few hundred bars. */
export function binningFor(spanInMs: number): Binning {
  if (spanInMs <= 3 * DAY) return { sizeInMs: HOUR, unit: "hour" };
  if (spanInMs <= 120 * DAY) return { sizeInMs: DAY, unit: "day" };
  return { sizeInMs: 7 * DAY, unit: "week" };
}

export interface TimelineBin {
  start: number;
  counts: Partial<Record<Outcome, number>>;
  total: number;
}

/** Runs counted by outcome per bin, from the bin holding `from` to the one holding `to`. */
export function timelineBins(runs: readonly { at: string; outcome: Outcome; count?: number }[], from: Date, to: Date): { bins: TimelineBin[]; binning: Binning } {
  const binning = binningFor(Math.max(0, to.getTime() - from.getTime()));
  const first = Math.floor(from.getTime() / Math.min(binning.sizeInMs, DAY)) * Math.min(binning.sizeInMs, DAY);
  const count = Math.max(1, Math.ceil((to.getTime() - first + 1) / binning.sizeInMs));
  const bins: TimelineBin[] = Array.from({ length: count }, (_, i) => ({ start: first + i * binning.sizeInMs, counts: {}, total: 0 }));
  for (const run of runs) {
    const i = Math.floor((Date.parse(run.at) - first) / binning.sizeInMs);
    if (!(i >= 0 && i < count)) continue;
    // A day's compacted in-sync checks are one row standing for `count` runs.
    const n = run.count ?? 1;
    bins[i].counts[run.outcome] = (bins[i].counts[run.outcome] ?? 0) + n;
    bins[i].total += n;
  }
  return { bins, binning };
}

function niceCeiling(value: number): number {
  if (value <= 5) return Math.max(1, value);
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function binLabel(start: number, unit: Binning["unit"]): string {
  const iso = new Date(start).toISOString();
  return unit === "hour" ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(0, 10);
}

const num = (n: number) => String(Math.round(n * 10) / 10);

/** Stacked bars of runs by outcome over time. */
export function timelineSvg(runs: readonly { at: string; outcome: Outcome; count?: number }[], from: Date, to: Date): string {
  const { bins, binning } = timelineBins(runs, from, to);
  const width = 960;
  const height = 220;
  const left = 44;
  const right = 8;
  const top = 12;
  const bottom = 30;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const yMax = niceCeiling(Math.max(0, ...bins.map((b) => b.total)));
  const slot = plotWidth / bins.length;
  const barWidth = Math.max(1, slot - Math.min(3, slot * 0.2));
  const y = (value: number) => top + plotHeight - (value / yMax) * plotHeight;
  const parts: string[] = [];
  const title = `Runs per ${binning.unit} by outcome, ${binLabel(bins[0].start, "day")} to ${to.toISOString().slice(0, 10)}`;
  parts.push(`<svg class="chart timeline" role="img" aria-labelledby="timeline-title" viewBox="0 0 ${width} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg">`);
  parts.push(`<title id="timeline-title">${escapeHtml(title)}</title>`);
  // Grid and y axis: 0, half, max.
  // Runs are whole: a half-way line only where it is a whole number.
  for (const value of Number.isInteger(yMax / 2) ? [0, yMax / 2, yMax] : [0, yMax]) {
    parts.push(`<line class="grid" x1="${left}" x2="${width - right}" y1="${num(y(value))}" y2="${num(y(value))}"/>`);
    parts.push(`<text class="axis" x="${left - 6}" y="${num(y(value) + 4)}" text-anchor="end">${num(value)}</text>`);
  }
  bins.forEach((bin, i) => {
    let base = 0;
    const x = left + i * slot + (slot - barWidth) / 2;
    for (const outcome of STACK_ORDER) {
      const n = bin.counts[outcome];
      if (!n) continue;
      const y0 = y(base);
      const y1 = y(base + n);
      parts.push(
        `<rect class="bar" data-outcome="${outcome}" x="${num(x)}" y="${num(y1)}" width="${num(barWidth)}" height="${num(Math.max(0.5, y0 - y1))}" fill="${OUTCOME_COLORS[outcome]}">` +
          `<title>${escapeHtml(`${binLabel(bin.start, binning.unit)}: ${n} ${outcome}`)}</title></rect>`,
      );
      base += n;
    }
  });
  const every = Math.max(1, Math.ceil(bins.length / 6));
  for (let i = 0; i < bins.length; i += every) {
    const x = left + i * slot + slot / 2;
    parts.push(`<line class="tick" x1="${num(x)}" x2="${num(x)}" y1="${top + plotHeight}" y2="${top + plotHeight + 4}"/>`);
    const label = binLabel(bins[i].start, binning.unit);
    // A label is whole: near an edge it is anchored there instead of centred past it (about 7 px a character at 11 px).
    const half = label.length * 3.5;
    const anchor = x + half > width - right ? "end" : x - half < 0 ? "start" : "middle";
    const at = anchor === "end" ? width - right : anchor === "start" ? 0 : x;
    parts.push(`<text class="axis" x="${num(at)}" y="${height - 10}" text-anchor="${anchor}">${escapeHtml(label)}</text>`);
  }
  parts.push(`<line class="baseline" x1="${left}" x2="${width - right}" y1="${top + plotHeight}" y2="${top + plotHeight}"/>`);
  if (runs.length === 0) parts.push(`<text class="empty" x="${width / 2}" y="${top + plotHeight / 2}" text-anchor="middle">No runs in the period</text>`);
  parts.push("</svg>");
  return parts.join("");
}

/** Horizontal bars: corrections per field. */
export function fieldBarsSvg(rows: readonly { field: string; count: number }[]): string {
  const rowHeight = 22;
  const labelWidth = 230;
  const width = 960;
  const barSpace = width - labelWidth - 60;
  const height = Math.max(1, rows.length) * rowHeight + 8;
  const max = Math.max(1, ...rows.map((r) => r.count));
  const parts = [
    `<svg class="chart fields" role="img" aria-labelledby="fields-title" viewBox="0 0 ${width} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg">`,
    `<title id="fields-title">Corrections by field</title>`,
  ];
  rows.forEach((row, i) => {
    const yTop = 4 + i * rowHeight;
    const barWidth = (row.count / max) * barSpace;
    parts.push(`<text class="label" x="${labelWidth - 8}" y="${yTop + 15}" text-anchor="end">${escapeHtml(row.field)}</text>`);
    parts.push(`<rect class="bar" x="${labelWidth}" y="${yTop + 3}" width="${num(Math.max(1, barWidth))}" height="${rowHeight - 6}" fill="${OUTCOME_COLORS.corrected}"><title>${escapeHtml(`${row.field}: ${row.count}`)}</title></rect>`);
    parts.push(`<text class="value" x="${num(labelWidth + barWidth + 6)}" y="${yTop + 15}">${row.count}</text>`);
  });
  if (rows.length === 0) parts.push(`<text class="empty" x="${width / 2}" y="16" text-anchor="middle">No corrections in the period</text>`);
  parts.push("</svg>");
  return parts.join("");
}
