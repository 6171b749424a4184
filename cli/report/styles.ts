/** The report's stylesheet, inline: system fonts only, and a print layout (A4 landscape, headers repeated on each page). */
export const REPORT_CSS = `
:root { color-scheme: light; --ink: #1b1f24; --muted: #5b6570; --line: #d5dbe1; --band: #f4f6f8; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 24px 32px 48px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial, sans-serif; color: var(--ink); background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 6px; }
p.note, .muted { color: var(--muted); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.banner { margin: 12px 0; padding: 8px 12px; border-left: 4px solid #c62828; background: #fdecea; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 13px; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid var(--line); }
th { background: var(--band); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.id, code { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 12px; word-break: break-all; }
.value { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 12px; }
.masked { color: var(--muted); }
.masked::after { content: "\\2020"; font-size: 10px; vertical-align: super; }
.outcome { display: inline-block; padding: 0 6px; border-radius: 8px; color: #fff; font-size: 12px; white-space: nowrap; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; list-style: none; padding: 0; margin: 4px 0 0; font-size: 12px; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; vertical-align: baseline; }
svg.chart { display: block; max-width: 100%; height: auto; }
svg .grid { stroke: #e6eaee; stroke-width: 1; }
svg .baseline, svg .tick { stroke: #8a949e; stroke-width: 1; }
svg text { font: 11px system-ui, "Liberation Sans", Arial, sans-serif; fill: var(--muted); }
svg text.label { fill: var(--ink); font-size: 12px; }
svg text.empty { font-size: 14px; }
details > summary { cursor: pointer; }
details.desired-target > summary h3 { display: inline-block; }
footer { margin-top: 40px; font-size: 12px; color: var(--muted); }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  h3 { break-after: avoid; page-break-after: avoid; }
  thead { display: table-header-group; }
  tr, svg.chart, .legend { break-inside: avoid; page-break-inside: avoid; }
  details.desired-target { break-inside: avoid; page-break-inside: avoid; }
  table { font-size: 8.5pt; }
}
`;
