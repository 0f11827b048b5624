import { isMap, isScalar, isSeq, parseDocument, Scalar, type Document, type YAMLMap, type YAMLSeq } from 'yaml';
import { LabError } from '../util/errors.js';
import type { GuestUnit } from './units.js';

/** The coreos: sections whose keys coreos-cloudinit turns into ETCD_* / FLEET_* / ... variables. */
const COREOS_SECTIONS = ['etcd', 'etcd2', 'fleet', 'flannel', 'locksmith', 'update', 'oem'];

/**
 * A #cloud-config the lab edits, as a YAML document (comments kept): the one place its additions
 * are made (the key, keys with "_", units, RancherOS interfaces). toString() gives it back with
 * its header.
 */
export class CloudConfig {
  private constructor(private doc: Document) {}

  static parse(text: string): CloudConfig {
    const doc = parseDocument(text.replace(/^#cloud-config[^\n]*(\n|$)/, ''));
    if (doc.errors.length) throw new LabError(`the node's cloud-config is not valid YAML: ${doc.errors[0].message.split('\n')[0]}`, { fix: 'run corelab lint on the scenario' });
    if (!isMap(doc.contents)) doc.contents = doc.createNode({}) as unknown as typeof doc.contents;
    return new CloudConfig(doc);
  }

  has(path: string[]): boolean {
    return this.doc.hasIn(path);
  }

  /** The lab's key in ssh_authorized_keys (the image's user gets it), beside the config's own. */
  addKey(key: string): void {
    const keys = this.doc.get('ssh_authorized_keys');
    if (!isSeq(keys)) return void this.doc.set('ssh_authorized_keys', this.doc.createNode([key]));
    if (!(keys as YAMLSeq).items.some((k) => isScalar(k) && k.value === key)) (keys as YAMLSeq).add(this.doc.createNode(key));
  }

  /**
   * The article's configs write coreos.etcd2 keys with dashes (advertise-client-urls). CoreOS's
   * coreos-cloudinit turned "-" into "_" before reading them; Flatcar's (yaml.v3, since 3975.2.0)
   * no longer does and silently drops them: etcd then advertises localhost and discovery never
   * forms. So the lab writes them with "_" (so does a unit's drop-ins), which every release reads.
   */
  underscoreKeys(): void {
    for (const section of COREOS_SECTIONS) {
      const m = this.doc.getIn(['coreos', section]);
      if (isMap(m)) for (const pair of (m as YAMLMap).items) if (isScalar(pair.key) && typeof pair.key.value === 'string') pair.key.value = pair.key.value.replace(/-/g, '_');
    }
    const units = this.doc.getIn(['coreos', 'units']);
    if (!isSeq(units)) return;
    for (const u of (units as YAMLSeq).items) {
      if (!isMap(u)) continue;
      for (const pair of (u as YAMLMap).items) if (isScalar(pair.key) && pair.key.value === 'drop-ins') pair.key.value = 'drop_ins';
    }
  }

  /**
   * Merges units into coreos.units: a unit the config already names gets the content (when it
   * has none of its own) and keeps its command; the others are added before the config's own, in
   * the order given (network and /opt/bin are ready before its commands run).
   */
  mergeUnits(units: GuestUnit[]): void {
    if (!units.length) return;
    const doc = this.doc;
    if (!isSeq(doc.getIn(['coreos', 'units']))) doc.setIn(['coreos', 'units'], doc.createNode([]));
    const list = doc.getIn(['coreos', 'units']) as YAMLSeq;
    let first = 0;
    for (const u of units) {
      const existing = list.items.find((i): i is YAMLMap => isMap(i) && i.get('name') === u.name);
      if (existing) {
        if (!existing.has('content')) existing.set('content', literal(u.content));
        if (u.enable && !existing.has('enable')) existing.set('enable', true);
        if (u.command && !existing.has('command')) existing.set('command', u.command);
        continue;
      }
      const m = doc.createNode({ name: u.name }) as YAMLMap;
      if (u.enable) m.set('enable', true);
      if (u.command) m.set('command', u.command);
      m.set('content', literal(u.content));
      list.items.splice(first++, 0, m);
    }
  }

  /** RancherOS's rancher.network.interfaces, by MAC (keys quoted: RancherOS reads YAML 1.1). */
  setInterfaces(byMac: Array<[string, Record<string, unknown>]>): void {
    const interfaces = this.doc.createNode({}) as YAMLMap;
    for (const [mac, settings] of byMac) interfaces.set(quoted(`mac=${mac}`), this.doc.createNode(settings));
    this.doc.setIn(['rancher', 'network', 'interfaces'], interfaces);
  }

  toString(): string {
    return `#cloud-config\n${this.doc.toString({ lineWidth: 0 })}`;
  }
}

/** A block-literal YAML string (unit files stay readable in the rendered config). */
function literal(text: string): Scalar {
  const s = new Scalar(text);
  s.type = Scalar.BLOCK_LITERAL;
  return s;
}

function quoted(text: string): Scalar {
  const s = new Scalar(text);
  s.type = Scalar.QUOTE_DOUBLE;
  return s;
}
