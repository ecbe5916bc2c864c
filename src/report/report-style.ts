import { purposeSwatchCss } from './order-table.ts';

/** The report's stylesheet, inlined: a light theme, system fonts only (the file must work offline). */
export function reportStyle(): string {
  return `
:root{--fg:#1b1b1b;--muted:#5f6368;--line:#d9dce1;--bg:#ffffff;--panel:#f7f8fa;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono","Liberation Mono",monospace}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
main{max-width:960px;margin:0 auto;padding:24px 24px 64px}
h1{font-size:22px;margin:0 0 6px}
h2{font-size:18px;margin:0 0 6px;display:flex;align-items:center;gap:10px}
h3{font-size:14px;margin:18px 0 6px}
code{font-family:var(--mono);font-size:12.5px}
.meta{display:flex;flex-wrap:wrap;gap:6px 22px;margin:0 0 14px;color:var(--muted)}
.meta b{color:var(--fg);font-weight:600;font-family:var(--mono);font-size:13px}
nav{margin:8px 0 18px;font-size:13px}
nav a{margin-right:12px;color:#1f5fbf;white-space:nowrap;display:inline-block}
td a{color:inherit}
details>summary{cursor:pointer;list-style:none}
details>summary::-webkit-details-marker{display:none}
details>summary h2::before{content:"▸";color:var(--muted);font-size:14px;width:12px}
details[open]>summary h2::before{content:"▾"}
section{margin:0 0 28px}
section.account{border-top:2px solid var(--line);padding:10px 0 0;margin:0}
section.account details[open]{padding-bottom:18px}
section.account h2{margin:0 0 8px}
table{border-collapse:collapse;font-family:var(--mono);font-size:12px;width:100%;margin:4px 0 10px}
th,td{border-bottom:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top;white-space:nowrap}
td.wrap{white-space:normal;width:100%}
th{background:var(--panel);font-weight:600;white-space:nowrap}
table.summary th{white-space:normal;vertical-align:bottom}
td.num,th.num{text-align:right;white-space:nowrap}
td.buy{color:#1a7f37}td.sell{color:#b3261e}
td.status.good,b.ok{color:#1a7f37}td.status.bad,b.refused{color:#b3261e}td.status.warn{color:#9a6700}
td.event{white-space:nowrap;font-weight:600}
tr:has(td.event.warn){background:#fff8e6}tr:has(td.event.bad){background:#fdecec}tr:has(td.event.good){background:#eefaf0}
.why{color:var(--muted);margin-top:2px}
.numbers{color:var(--muted)}
code.rule{background:#f3e8ff;color:#5b2a91;border-radius:3px;padding:0 4px}
figure{margin:6px 0 12px}
svg.chart{display:block;max-width:100%;height:auto;font:11px system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
svg.chart .plot-bg{fill:#ffffff}
svg.chart .frame{fill:none;stroke:#9aa0a6;stroke-width:1}
svg.chart .grid{stroke:#eceef1;stroke-width:1}
svg.chart .axis line{stroke:#9aa0a6}
svg.chart .axis line.grid{stroke:#000000;stroke-opacity:0.07}
svg.chart .axis text{fill:#5f6368}
svg.chart .axis-label{fill:#5f6368;font-size:10.5px}
svg.chart .chart-title{font-weight:600;font-size:12px;fill:#1b1b1b}
svg.chart .chart-note{font-size:11px;fill:#9a6700}
svg.chart .end-label{font-size:10.5px;font-weight:600;paint-order:stroke;stroke:#ffffff;stroke-width:3px;stroke-linejoin:round}
svg.chart .band-label{font-size:11px;fill:#1b1b1b;font-weight:600}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;color:var(--muted);margin:4px 0 0 64px}
.legend-title{font-weight:600;color:var(--fg)}
.legend-item{display:inline-flex;align-items:center;gap:5px;white-space:nowrap}
.legend-hint{flex-basis:100%;font-size:11px}
.state-legend{margin:8px 0 2px 64px}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-2px;margin-right:4px}
.state-badge{color:#fff;font-size:12px;font-weight:600;border-radius:10px;padding:1px 9px}
.budget{margin:0 0 6px;color:var(--muted)}.budget b{color:var(--fg);font-family:var(--mono);font-weight:600}
.note,.empty{color:var(--muted);font-style:italic;margin:4px 0 8px}
footer{color:var(--muted);font-size:12px;margin-top:32px}
${purposeSwatchCss()}
`;
}
