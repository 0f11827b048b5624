import { isMap, isScalar, isSeq, parseDocument, type YAMLMap } from 'yaml';
import type { CatalogEntry, ConfigAgent } from '../images/catalog.js';
import { isIgnition } from './ignition.js';

/**
 * What the lab learns from a node's config once, at plan time (lab/run/plan.ts): which program in
 * the guest applies it, and the guest port sshd listens on (where the lab's SSH forward goes).
 * Pure functions of the config text: nothing is booted, nothing is read but the text.
 */

/** Who applies a node's config in the guest: Ignition for an Ignition JSON, else the image's cloud-config reader. */
export type NodeAgent = 'ignition' | ConfigAgent;

export function nodeAgent(entry: Pick<CatalogEntry, 'agent'>, config: string): NodeAgent {
  return isIgnition(config) ? 'ignition' : entry.agent;
}

/** sshd's port when the config does not move it. */
export const DEFAULT_SSH_PORT = 22;

/** The unit whose ListenStream= the article changes to move SSH (CoreOS's and Flatcar's name for sshd's socket). */
const SSH_SOCKET = 'sshd.socket';

/**
 * The guest port sshd listens on, from the config's sshd.socket: a cloud-config's `coreos.units`
 * entry (content, then its drop-ins) or an Ignition `systemd.units` entry (contents, then its
 * dropins; spec 2.x and 3.x name them alike). Of its [Socket] ListenStream= lines the last TCP
 * one wins (`2345`, `0.0.0.0:2345`, `[::]:2345`); an empty ListenStream= clears those before it,
 * as in systemd; unix sockets and values that are no port are passed over. 22 when the config has
 * no such unit, no usable line, or does not parse. RancherOS does not read coreos.units: 22.
 */
export function guestSshPort(config: string, agent: NodeAgent): number {
  if (agent === 'rancheros') return DEFAULT_SSH_PORT;
  const texts = agent === 'ignition' ? ignitionSocketTexts(config) : cloudConfigSocketTexts(config);
  let port: number | undefined;
  for (const text of texts) port = listenPort(text, port);
  return port ?? DEFAULT_SSH_PORT;
}

/**
 * The port after the [Socket] ListenStream= lines of one unit file or drop-in, starting from
 * `before` (what earlier files left): the last TCP port, undefined after a reset with none after it.
 */
export function listenPort(unitText: string, before?: number): number | undefined {
  let port = before;
  let section = '';
  for (const raw of unitText.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const head = line.match(/^\[(.+)\]$/);
    if (head) {
      section = head[1].trim();
      continue;
    }
    const m = line.match(/^ListenStream\s*=\s*(.*)$/);
    if (section !== 'Socket' || !m) continue;
    if (m[1].trim() === '') port = undefined;
    else port = tcpPort(m[1].trim()) ?? port;
  }
  return port;
}

/** PORT, ADDR:PORT or [ADDR]:PORT as systemd.socket reads a ListenStream= value; undefined for anything else. */
function tcpPort(value: string): number | undefined {
  const m = value.match(/^(?:(?:\[[0-9A-Fa-f:.%\w]*\]|[0-9.]+):)?(\d{1,5})$/);
  if (!m) return undefined;
  const port = Number(m[1]);
  return port >= 1 && port <= 65535 ? port : undefined;
}

function cloudConfigSocketTexts(config: string): string[] {
  const doc = parseDocument(config, { uniqueKeys: false });
  if (doc.errors.length) return [];
  const units = doc.getIn(['coreos', 'units']);
  if (!isSeq(units)) return [];
  const texts: string[] = [];
  for (const u of units.items) {
    if (!isMap(u) || str(u, 'name') !== SSH_SOCKET) continue;
    const content = str(u, 'content');
    if (content !== undefined) texts.push(content);
    for (const key of ['drop-ins', 'drop_ins']) {
      const drops = u.get(key);
      if (isSeq(drops)) for (const d of drops.items) if (isMap(d) && str(d, 'content') !== undefined) texts.push(str(d, 'content')!);
    }
  }
  return texts;
}

function str(m: YAMLMap, key: string): string | undefined {
  const v = m.get(key, true);
  return isScalar(v) && typeof v.value === 'string' ? v.value : undefined;
}

interface IgnitionUnit {
  name?: unknown;
  contents?: unknown;
  dropins?: Array<{ contents?: unknown }>;
}

function ignitionSocketTexts(config: string): string[] {
  let units: unknown;
  try {
    units = (JSON.parse(config) as { systemd?: { units?: unknown } })?.systemd?.units;
  } catch {
    return [];
  }
  if (!Array.isArray(units)) return [];
  const texts: string[] = [];
  for (const u of units as IgnitionUnit[]) {
    if (!u || typeof u !== 'object' || u.name !== SSH_SOCKET) continue;
    if (typeof u.contents === 'string') texts.push(u.contents);
    if (Array.isArray(u.dropins)) for (const d of u.dropins) if (d && typeof d.contents === 'string') texts.push(d.contents);
  }
  return texts;
}
