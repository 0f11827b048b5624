import type { ScenarioResult } from '../run/results.js';
import { BOOT_BAR_SCRIPT, BOOT_DRAW_SCRIPT, BOOT_STYLE, BOOT_TABLE_SCRIPT } from './boothtml.js';

/** Page script: a scenario run with --rerun-failed lists its failed attempts, each with its output. */
const ATTEMPTS_SCRIPT = `  for (const a of (r.attempts || []).slice(0, -1)) {
    const f = a.steps.find((s) => s.status === 'failed');
    const why = f ? 'step ' + (f.index + 1) + ' "' + f.name + '": ' + (f.failures || [f.message || 'failed']).join('; ') : (a.error || '').split('\\n')[0];
    const box = el('div', { className: 'attempt ' + a.status }, 'attempt ' + a.attempt + ' of ' + r.attempts.length + ': ' + a.status + ' at ' + why);
    const out = f ? [f.command ? '$ ' + f.command : '', f.stdout, f.stderr].filter(Boolean).join('\\n') : a.error;
    if (out) box.append(el('details', {}, el('summary', {}, 'output of attempt ' + a.attempt), el('pre', {}, out)));
    root.append(box);
  }
`;

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:17px;margin-top:28px}
.passed{color:#17692b}.failed,.error{color:#b3261e}.skipped{color:#777}
.flaky{color:#b26a00}.attempt{margin:4px 0}
.timeline{position:relative;border:1px solid #ccc;background:#fafafa;margin:8px 0 16px}
.lane{position:relative;height:26px;border-bottom:1px solid #eee}
.lane-name{position:absolute;left:4px;top:4px;width:110px;font-weight:600;overflow:hidden}
.bar{position:absolute;top:4px;height:18px;border-radius:3px;min-width:3px;font-size:11px;color:#fff;overflow:hidden;white-space:nowrap;padding:0 3px;box-sizing:border-box}
.bar.boot{background:#7a8ca3}.bar.passed{background:#2e7d32}.bar.failed{background:#c62828}.bar.skipped{background:#bbb}
.axis{font-size:11px;color:#666;padding:2px 0 2px 120px}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:4px 6px;text-align:left;vertical-align:top}
pre{background:#f4f4f4;padding:6px;max-height:300px;overflow:auto;white-space:pre-wrap;margin:4px 0}
`;

/**
 * A self-contained report.html: per scenario, its nodes (who applied each one's config, the guest
 * port of its SSH forward), a timeline with one lane per node (boot, then each step on that node)
 * and a lane for the lab and the host, then every step with its command and
 * output; console logs are linked. The data is embedded as JSON and drawn by a small script.
 */
export function htmlReport(results: ScenarioResult[], consoleBase: (r: ScenarioResult) => string = () => ''): string {
  const data = results.map((r) => ({ ...r, consoleBase: consoleBase(r) }));
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>corelab report</title>
<style>
${STYLE}${BOOT_STYLE}</style></head><body>
<h1>corelab report</h1>
<div id="report"></div>
<script id="data" type="application/json">${json}</script>
<script>
const results = JSON.parse(document.getElementById('data').textContent);
const root = document.getElementById('report');
const el = (tag, attrs, ...kids) => { const e = document.createElement(tag); Object.assign(e, attrs || {}); for (const k of kids) e.append(k); return e; };
const secs = (ms) => (ms / 1000).toFixed(1) + ' s';
for (const r of results) {
  const t0 = Date.parse(r.startedAt), span = Math.max(r.durationMs, 1);
  const title = r.scenario + (r.run ? ' (run ' + r.run + '/' + r.runs + ')' : '');
  root.append(el('h2', { className: r.status }, title + ': ' + r.status + ' in ' + secs(r.durationMs) + (r.accel ? ' (' + r.accel + ')' : '')));
  if (r.error) root.append(el('pre', { className: 'error' }, r.error));
${ATTEMPTS_SCRIPT}  const cp = r.checkpoint;
  if (cp && cp.restored) root.append(el('p', { className: 'checkpoint' }, 'restored from checkpoint "' + cp.restored + '" (' + cp.key + '): the steps before it were not run again'));
  else if (cp && cp.coldReason) root.append(el('p', { className: 'checkpoint' }, 'cold run: ' + cp.coldReason));
  for (const x of (cp && cp.saved) || []) root.append(el('p', { className: 'checkpoint' }, 'saved checkpoint "' + x.name + '" in ' + secs(x.ms)));
  const lanes = [...r.nodes.map((n) => n.name), 'lab', 'host'];
  const how = {};
  for (const n of r.nodes) if (n.agent) how[n.name] = 'config applied by ' + n.agent + ', SSH forwarded to guest port ' + (n.guestSshPort || 22);
  if (Object.keys(how).length) root.append(el('ul', { className: 'nodes' }, ...r.nodes.filter((n) => how[n.name]).map((n) => el('li', {}, n.name + ' ' + n.address + ': ' + how[n.name]))));
  const tl = el('div', { className: 'timeline' });
  const laneEls = {};
  for (const name of lanes) {
    const lane = el('div', { className: 'lane' }, el('div', how[name] ? { className: 'lane-name', title: how[name] } : { className: 'lane-name' }, name));
    lane.dataset.lane = name;
    laneEls[name] = lane;
    tl.append(lane);
  }
  const place = (lane, start, ms, cls, label, tip) => {
    const target = laneEls[lane] || laneEls.lab;
    const left = 120 + (start - t0) / span * (tl.clientWidth - 130 || 800);
    const width = Math.max(3, ms / span * (tl.clientWidth - 130 || 800));
    const bar = el('div', { className: 'bar ' + cls, title: tip }, label);
    bar.style.left = left + 'px'; bar.style.width = width + 'px';
    target.append(bar);
  };
  root.append(tl);
${BOOT_BAR_SCRIPT}${BOOT_DRAW_SCRIPT}  tl.append(ticks);
  root.append(legend);
  for (const s of r.steps) {
    const lanesOf = String(s.node || 'lab').split(',');
    for (const lane of lanesOf) place(lane, Date.parse(s.startedAt), s.durationMs, s.status, String(s.index + 1), (s.index + 1) + '. ' + s.name + ' [' + s.status + ', ' + secs(s.durationMs) + ']');
  }
  const table = el('table', {}, el('tr', {}, el('th', {}, '#'), el('th', {}, 'step'), el('th', {}, 'node'), el('th', {}, 'status'), el('th', {}, 'time')));
  for (const s of r.steps) {
    const detail = el('td');
    detail.append(el('div', {}, s.name));
    if (s.note) detail.append(el('div', { className: 'skipped' }, s.note));
    if (s.command) detail.append(el('pre', {}, '$ ' + s.command));
    for (const f of s.failures || []) detail.append(el('div', { className: 'failed' }, f));
    if (s.message) detail.append(el('div', {}, s.message));
    const out = [s.stdout, s.stderr].filter(Boolean).join('\\n');
    if (out) detail.append(el('details', {}, el('summary', {}, 'output'), el('pre', {}, out)));
    table.append(el('tr', { className: 'step' }, el('td', {}, String(s.index + 1)), detail, el('td', {}, s.node), el('td', { className: s.status }, s.status), el('td', {}, secs(s.durationMs))));
  }
  root.append(table);
${BOOT_TABLE_SCRIPT}  const links = el('p', {}, 'consoles: ');
  for (const n of r.nodes) if (n.console) links.append(el('a', { href: r.consoleBase + n.console }, n.name), ' ');
  root.append(links);
}
document.body.dataset.rendered = 'yes';
</script>
</body></html>
`;
}
