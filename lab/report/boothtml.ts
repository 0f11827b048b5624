/**
 * Page-script pieces of report.html (html.ts) for boots: each node's boot bar split into its
 * phases (QEMU and kernel load, kernel, initramfs, userspace to multi-user.target, cloud-init's
 * services, SSH ready), power and other fault steps marked on the node's lane, the time axis with
 * ticks, and a table of every node's boot profile (lab/cluster/bootprofile.ts). They run inside
 * the per-scenario loop of html.ts, where `r`, `t0`, `span`, `tl`, `laneEls`, `place`, `el` and
 * `secs` are defined.
 */

export const BOOT_STYLE = `.seg{position:absolute;top:4px;height:18px;font-size:10px;color:#fff;overflow:hidden;white-space:nowrap;box-sizing:border-box;padding:0 2px;border-right:1px solid #fff}
.seg.template{background:#ffb300}.seg.load{background:#9e9e9e}.seg.kernel{background:#5c6bc0}.seg.initrd{background:#8e24aa}.seg.userspace{background:#00897b}.seg.after{background:#80cbc4}
.seg.cloudinit{top:19px;height:4px;background:#f9a825;border:none;padding:0}
.mark{position:absolute;top:0;height:26px;width:2px;background:#222}.mark.ssh{background:#e65100}.mark.fault{background:#b3261e;width:3px}
.mark span{position:absolute;top:-1px;left:4px;font-size:10px;color:#b3261e;white-space:nowrap;background:#fafafa}
.ticks{position:relative;height:18px;font-size:11px;color:#666;border-top:1px solid #ccc}
.tick{position:absolute;top:0;height:5px;border-left:1px solid #888}.tick span{position:absolute;top:4px;left:-12px;white-space:nowrap}
.legend span{display:inline-block;padding:0 6px;margin-right:4px;color:#fff;font-size:11px;border-radius:2px}
table.profile td{font-size:12px}
`;

/** Defines bootBar(lane, startMs, bootMs, profile): the boot bar with its phases and the SSH mark. */
export const BOOT_BAR_SCRIPT = `  const x = (ms) => 120 + ms / span * (tl.clientWidth - 130 || 800);
  const seg = (lane, from, to, cls, label, tip) => {
    to = Math.min(to, t0 + span);
    if (!(to > from)) return;
    const s = el('div', { className: 'seg ' + cls, title: tip }, label);
    s.style.left = x(from - t0) + 'px'; s.style.width = Math.max(1, x(to - t0) - x(from - t0)) + 'px';
    (laneEls[lane] || laneEls.lab).append(s);
  };
  const mark = (lane, at, cls, label, tip) => {
    const m = el('div', { className: 'mark ' + cls, title: tip }, label ? el('span', {}, label) : '');
    m.style.left = x(at - t0) + 'px';
    (laneEls[lane] || laneEls.lab).append(m);
  };
  const bootBar = (lane, start, bootMs, p) => {
    place(lane, start, bootMs, 'boot', p ? '' : 'boot', lane + ': boot to SSH ' + secs(bootMs));
    if (!p) return;
    const pre = p.preKernelMs || 0, k = start + pre;
    const tpl = p.templateAtMs !== undefined;
    const phases = tpl
      ? [['template', start, k + p.templateAtMs, 'restored from its boot template, NICs and drives hotplugged'],
        ['userspace', k + p.templateAtMs, Math.min(k + (p.multiUserMs ?? bootMs - pre), start + bootMs), 'from the template to multi-user.target'],
        ['after', start + bootMs, p.multiUserMs ? k + p.multiUserMs : 0, 'multi-user.target after SSH']]
      : [['load', start, k, 'QEMU start to kernel'], ['kernel', k, k + (p.initMs ?? 0), 'kernel'],
        ['initrd', k + (p.initMs ?? 0), k + (p.systemdMs ?? p.initMs ?? 0), 'initramfs'],
        ['userspace', k + (p.systemdMs ?? 0), Math.min(k + (p.multiUserMs ?? bootMs - pre), start + bootMs), 'systemd to multi-user.target'],
        ['after', start + bootMs, p.multiUserMs ? k + p.multiUserMs : 0, 'multi-user.target after SSH']];
    for (const [cls, a, b, what] of phases) seg(lane, a, b, cls, cls === 'after' ? '' : cls, lane + ': ' + what + ' ' + secs(b - a));
    for (const c of p.cloudInit || []) seg(lane, k + c.startMs, k + c.endMs, 'cloudinit', '', lane + ': ' + c.unit + ' ' + secs(c.endMs - c.startMs));
    mark(lane, start + bootMs, 'ssh', '', lane + ': SSH answers at ' + secs(bootMs));
  };
`;

/** Draws the boots, the fault marks and the axis; after the lanes exist and before the step bars. */
export const BOOT_DRAW_SCRIPT = `  for (const n of r.nodes) {
    if (n.bootStartedAt && n.bootMs) bootBar(n.name, Date.parse(n.bootStartedAt), n.bootMs, n.boot);
    for (const b of n.reboots || []) if (b.bootMs) bootBar(n.name, Date.parse(b.startedAt), b.bootMs, b.boot);
  }
  const FAULTS = ['poweroff', 'poweron', 'shutdown', 'pause', 'resume', 'linkdown', 'linkup', 'partition', 'heal'];
  for (const s of r.steps) if (FAULTS.includes(s.kind) && s.status !== 'skipped') {
    for (const lane of String(s.node || 'lab').split(',')) mark(lane, Date.parse(s.startedAt), 'fault', s.kind, (s.index + 1) + '. ' + s.name);
  }
  const ticks = el('div', { className: 'ticks' });
  const raw = span / 10, pow = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((v) => v >= raw) || raw;
  for (let ms = 0; ms <= span; ms += step) {
    const t = el('div', { className: 'tick' }, el('span', {}, Math.round(ms / 1000) + ' s'));
    t.style.left = x(ms) + 'px';
    ticks.append(t);
  }
  const legend = el('p', { className: 'legend' }, 'boot phases: ');
  for (const [cls, what] of [['template', 'from boot template'], ['load', 'QEMU to kernel'], ['kernel', 'kernel'], ['initrd', 'initramfs'], ['userspace', 'systemd to multi-user'], ['after', 'multi-user after SSH'], ['cloudinit', 'cloud-init services']]) {
    const s = el('span', { className: 'seg ' + cls }, what); s.style.position = 'static'; s.style.height = 'auto';
    legend.append(s);
  }
`;

/** A table of every boot's profile: phase times, cloud-init stages, the slowest units. */
export const BOOT_TABLE_SCRIPT = `  const boots = r.nodes.flatMap((n) => [[n.name, n.bootMs, n.boot], ...(n.reboots || []).map((b, i) => [n.name + ' (power-on ' + (i + 1) + ')', b.bootMs, b.boot])]).filter((b) => b[2]);
  if (boots.length) {
    const opt = (ms) => (ms === undefined || ms === null ? '–' : secs(ms));
    const pt = el('table', { className: 'profile' }, el('tr', {}, ...['node', 'to kernel', 'kernel', 'initramfs', 'systemd to multi-user', 'SSH', 'cloud-init', 'slowest units', 'notes'].map((h) => el('th', {}, h))));
    for (const [name, bootMs, p] of boots) {
      const ci = el('td', { title: 'from its log: ' + (p.cloudInitStages || []).map((c) => c.name + ' ' + secs(c.ms)).join(', ') + '; slowest modules: ' + (p.cloudInitModules || []).map((c) => c.name + ' ' + secs(c.ms)).join(', ') }, (p.cloudInit || []).map((c) => c.unit.replace('.service', '') + ' ' + secs(c.endMs - c.startMs)).join('\\n'));
      ci.style.whiteSpace = 'pre';
      const blame = el('td', {}, (p.blame || []).map((b) => secs(b.ms) + ' ' + b.unit).join('\\n'));
      blame.style.whiteSpace = 'pre';
      const notes = (p.errors || []).concat(p.analyze && p.analyze.note ? [p.analyze.note] : [], p.templateAtMs !== undefined ? ['from its boot template: kernel to cloud-init ran once, in the template (' + secs(p.templateAtMs) + ')'] : []).join('; ');
      const mu = p.multiUserMs === undefined ? '–' : secs(p.multiUserMs - (p.systemdMs || 0));
      pt.append(el('tr', {}, el('td', {}, name), el('td', {}, opt(p.preKernelMs)), el('td', {}, opt(p.initMs)), el('td', {}, opt(p.systemdMs !== undefined && p.initMs !== undefined ? p.systemdMs - p.initMs : undefined)), el('td', {}, mu), el('td', {}, opt(bootMs)), ci, blame, el('td', {}, notes)));
    }
    root.append(el('h3', {}, 'boot profiles'), pt);
    for (const [name, , p] of boots) if (p.criticalChain) root.append(el('details', {}, el('summary', {}, name + ': critical chain of multi-user.target'), el('pre', {}, p.criticalChain.join('\\n'))));
  }
`;
