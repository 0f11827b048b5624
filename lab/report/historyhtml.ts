import type { History, ScenarioHistory, Series } from './history.js';
import { SLOW_FACTOR } from './history.js';
import { x } from './junit.js';

const MARK: Record<string, string> = { passed: '✓', failed: '✗', error: '!', flaky: '~', skipped: '–' };

const secs = (ms: number | null | undefined) => (ms === null || ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);

/**
 * history.html: one self-contained page (no script, no external file): the current failures with
 * the night each began and its output, the steps that got slow, then per scenario a row per step
 * and per node's boot with a cell per night and a plot of the durations.
 */
export function historyHtml(h: History): string {
  const first = h.nights[0];
  const last = h.nights.at(-1);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>corelab history</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse}td,th{border-bottom:1px solid #eee;padding:3px 6px;text-align:left;vertical-align:middle;white-space:nowrap}
th.night{font-weight:normal;font-size:12px;color:#555}
td.cell{text-align:center;font-size:12px;min-width:52px}
.passed{background:#e3f3e5;color:#17692b}.failed,.error{background:#fbe4e2;color:#b3261e}.flaky{background:#fff0d6;color:#8a5200}.skipped{color:#888}
td.slow{outline:2px solid #c77700;outline-offset:-2px;font-weight:600}
.current-failure{border-left:4px solid #b3261e;padding:4px 10px;margin:10px 0}
pre{background:#f4f4f4;padding:6px;max-height:300px;overflow:auto;white-space:pre-wrap;margin:4px 0}
svg.plot{vertical-align:middle}
</style></head><body>
<h1>corelab history: ${h.nights.length} night(s)${first ? `, ${x(first.startedAt)} to ${x(last!.startedAt)}` : ''}</h1>
${nightsTable(h)}
<h2>Current failures</h2>
${h.currentFailures.length ? h.currentFailures.map((f) => `<div class="current-failure" data-scenario="${x(f.scenario)}" data-step="${x(f.step)}" data-since="${x(f.sinceNight)}">
<b>${x(f.scenario)}</b>: ${x(f.step)}: failing since night <span class="since">${x(f.sinceNight)}</span> (${x(h.nights[f.since].startedAt)}), ${f.nights} night(s)
<pre>${x(f.output)}</pre></div>`).join('\n') : '<p class="passed">none: the last night of every scenario passed</p>'}
<h2>Slower than ${SLOW_FACTOR}× their median</h2>
${slowList(h)}
${h.scenarios.map((s) => scenarioSection(h, s)).join('\n')}
</body></html>
`;
}

function nightsTable(h: History): string {
  const rows = h.nights.map((n, i) => `<tr><td>${i + 1}</td><td>${x(n.label)}</td><td>${x(n.startedAt)}</td><td>${n.reports.map(x).join('<br>')}</td></tr>`);
  return `<table class="nights"><tr><th>#</th><th>night</th><th>started</th><th>reports</th></tr>\n${rows.join('\n')}\n</table>`;
}

function slowList(h: History): string {
  const items: string[] = [];
  for (const s of h.scenarios) {
    const all: Array<[string, Series]> = [['whole scenario', s], ...s.steps.map((st): [string, Series] => [`step "${st.name}"`, st]), ...s.boot.map((b): [string, Series] => [`boot of ${b.node}`, b])];
    for (const [what, series] of all) {
      for (const i of series.slow) {
        const ms = series.durationMs[i]!;
        items.push(`<li class="slow-step" data-scenario="${x(s.scenario)}" data-what="${x(what)}" data-night="${x(h.nights[i].label)}">${x(s.scenario)}: ${x(what)} took ${secs(ms)} on night ${x(h.nights[i].label)}, ${(ms / series.medianMs!).toFixed(1)}× its median ${secs(series.medianMs)}</li>`);
      }
    }
  }
  return items.length ? `<ul>\n${items.join('\n')}\n</ul>` : '<p>none</p>';
}

function scenarioSection(h: History, s: ScenarioHistory): string {
  const head = `<tr><th>${x(s.file)}</th>${h.nights.map((n) => `<th class="night">${x(n.label)}</th>`).join('')}<th>median</th><th>duration per night</th></tr>`;
  const rows = [
    row(h, 'whole scenario', s, 'scenario'),
    ...s.steps.map((st) => row(h, `${Number.isFinite(st.index) ? `${st.index + 1}. ` : ''}${st.name}`, st, 'step')),
    ...s.boot.map((b) => row(h, `boot of ${b.node}`, b, 'boot')),
  ];
  return `<section class="scenario" data-scenario="${x(s.scenario)}"><h2>${x(s.scenario)}</h2>
<table>
${head}
${rows.join('\n')}
</table></section>`;
}

function row(h: History, name: string, s: Series, kind: string): string {
  const cells = h.nights.map((n, i) => {
    const st = s.status[i];
    if (!st) return '<td class="cell absent" title="did not run">·</td>';
    const slow = s.slow.includes(i);
    const tip = `${n.label}: ${st}, ${secs(s.durationMs[i])}${slow ? `, ${SLOW_FACTOR}× slower than the median or more` : ''}`;
    return `<td class="cell ${st}${slow ? ' slow' : ''}" title="${x(tip)}">${MARK[st] ?? st} ${st === 'skipped' ? '' : secs(s.durationMs[i])}</td>`;
  });
  return `<tr class="${kind}" data-name="${x(name)}"><td>${x(name)}</td>${cells.join('')}<td>${secs(s.medianMs)}</td><td>${plot(s)}</td></tr>`;
}

/** A small inline SVG: the durations as a line, a dot per night coloured by status, slow nights ringed. */
export function plot(s: Series, width = 200, height = 32): string {
  const n = s.durationMs.length;
  const max = Math.max(1, ...s.durationMs.filter((d): d is number => d !== null));
  const px = (i: number) => (n < 2 ? width / 2 : 4 + (i * (width - 8)) / (n - 1));
  const py = (d: number) => height - 4 - (d / max) * (height - 8);
  const pts = s.durationMs.map((d, i) => (d === null || s.status[i] === 'skipped' ? null : [px(i), py(d)] as const));
  const line = pts.filter((p): p is readonly [number, number] => !!p).map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' ');
  const colour: Record<string, string> = { passed: '#2e7d32', flaky: '#c77700', failed: '#c62828', error: '#c62828' };
  const dots = pts.map((p, i) => {
    if (!p) return '';
    const slow = s.slow.includes(i);
    return `<circle cx="${p[0].toFixed(1)}" cy="${p[1].toFixed(1)}" r="${slow ? 4 : 2.5}" fill="${colour[s.status[i]!] ?? '#999'}"${slow ? ' stroke="#000" stroke-width="1.5" class="slow-point"' : ''}><title>${secs(s.durationMs[i])}</title></circle>`;
  });
  return `<svg class="plot" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><polyline points="${line}" fill="none" stroke="#7a8ca3" stroke-width="1.5"/>${dots.join('')}</svg>`;
}
