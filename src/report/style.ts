/**
 * The report's stylesheet: light by default, dark when the reader's system asks for it
 * (prefers-color-scheme). The chart colours are custom properties the script reads, so the charts
 * follow the scheme too. Status is never told by colour alone: every badge carries its word.
 */
export const PAGE_CSS = `
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1d2127; --muted: #5b6470; --line: #d5dae1; --grid: #e3e7ec; --head: #f3f5f8;
  --ok: #1a7f37; --fail: #c62828; --timeout: #b35c00; --pending: #6e7781; --dry: #2f6fdb; --before: #8250df; --after: #0a8f8f; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #14171b; --fg: #e6e9ed; --muted: #a3acb7; --line: #353c45; --grid: #2a3038; --head: #1d2228;
    --ok: #3fb950; --fail: #f85149; --timeout: #e3a03b; --pending: #8b949e; --dry: #58a6ff; --before: #bc8cff; --after: #39c5cf; }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 1rem 1.25rem 3rem; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 1.6rem; margin: .5rem 0; }
h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; padding-bottom: .25rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; font-weight: 600; margin: 1rem 0 .4rem; }
header p, section > p { color: var(--muted); margin: .3rem 0 .8rem; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .92em; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: var(--muted); font-size: .9rem; padding: .2rem 0; }
th, td { text-align: left; vertical-align: top; padding: .35rem .6rem; border-bottom: 1px solid var(--line); }
thead th { background: var(--head); font-weight: 600; }
tbody th { font-weight: 600; }
table.kv th { width: 9rem; white-space: nowrap; }
table.kv ul, .gates, .notes { margin: 0; padding-left: 1.1rem; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: .6rem; font-size: .85em; font-weight: 600; border: 1px solid currentColor; }
.ok { color: var(--ok); } .bad { color: var(--fail); } .warn { color: var(--timeout); } .dry { color: var(--dry); } .muted { color: var(--pending); }
.err { color: var(--fail); }
.chart { min-height: 120px; margin: .5rem 0; }
.pair { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; }
figure { margin: 0; } figcaption { font-weight: 600; }
details { margin: .5rem 0 1rem; } summary { cursor: pointer; color: var(--muted); }
.tick { border-left: 3px solid var(--line); padding-left: .8rem; margin: 1rem 0; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.uplot, .u-legend { color: var(--fg); font-family: inherit; }
html:not(.js) .chart { display: none; }
@media print { .chart { break-inside: avoid; } }
`;
