/**
 * The keys of Ignition config spec 2.0-2.3 (Ignition's own config/v2_x types), each with the
 * minor version that brought it. An Ignition 2.x ignores a key its spec lacks, with a warning;
 * so does this check, which keeps only the keys of the config's own version.
 */
import { closest } from '../scenario/yamlsource.js';
import { showPath, type JsonPath } from './jsonpos.js';

/** What the lint reports about a config, and why a translation is refused. */
export interface IgnitionIssue {
  /** The key it is about (["systemd", "units", 0, "command"]). */
  path: JsonPath;
  level: 'error' | 'warning';
  message: string;
  fix: string;
}

/** A leaf: string, integer, boolean, list of strings. */
type Leaf = 's' | 'i' | 'b' | 'ss';
type Field = Leaf | Shape | [Shape];
/** Keys of an object; "name@N" is a key from spec 2.N.0 on (else 2.0.0). */
interface Shape {
  [key: string]: Field;
}

const REF: Shape = { source: 's', verification: { hash: 's' } };
const OWNER: Shape = { id: 'i', 'name@1': 's' };
const NODE: Shape = { filesystem: 's', path: 's', user: OWNER, group: OWNER, 'overwrite@2': 'b' };
const DROPIN: Shape = { name: 's', contents: 's' };
const CREATE: Shape = { uid: 'i', gecos: 's', homeDir: 's', noCreateHome: 'b', primaryGroup: 's', groups: 'ss', noUserGroup: 'b', system: 'b', noLogInit: 'b', shell: 's' };
const USER: Shape = {
  name: 's', passwordHash: 's', sshAuthorizedKeys: 'ss', create: CREATE,
  ...Object.fromEntries(Object.entries(CREATE).map(([k, v]) => [`${k}@1`, v])),
};
const PARTITION: Shape = {
  label: 's', number: 'i', size: 'i', start: 'i', typeGuid: 's', 'guid@1': 's',
  'sizeMiB@3': 'i', 'startMiB@3': 'i', 'wipePartitionEntry@3': 'b', 'shouldExist@3': 'b',
};
const MOUNT: Shape = { device: 's', format: 's', create: { force: 'b', options: 'ss' }, 'wipeFilesystem@1': 'b', 'label@1': 's', 'uuid@1': 's', 'options@1': 'ss' };

const CONFIG: Shape = {
  ignition: {
    version: 's',
    config: { append: [REF], replace: REF },
    'timeouts@1': { httpResponseHeaders: 'i', httpTotal: 'i' },
    'security@2': { tls: { certificateAuthorities: [REF] } },
  },
  storage: {
    disks: [{ device: 's', wipeTable: 'b', partitions: [PARTITION] }],
    raid: [{ name: 's', level: 's', devices: 'ss', spares: 'i', 'options@2': 'ss' }],
    filesystems: [{ name: 's', path: 's', mount: MOUNT }],
    files: [{ ...NODE, mode: 'i', contents: { compression: 's', source: 's', verification: { hash: 's' } }, 'append@2': 'b' }],
    'directories@1': [{ ...NODE, mode: 'i' }],
    'links@1': [{ ...NODE, target: 's', hard: 'b' }],
  },
  systemd: { units: [{ name: 's', enable: 'b', 'enabled@1': 'b', mask: 'b', contents: 's', dropins: [DROPIN] }] },
  networkd: { units: [{ name: 's', contents: 's', 'dropins@2': [DROPIN] }] },
  passwd: { users: [USER], groups: [{ name: 's', gid: 'i', passwordHash: 's', system: 'b' }] },
};

/** Advice for keys people carry over from a cloud-config's coreos.units. */
const CLOUD_CONFIG_KEYS: Record<string, string> = {
  command: 'remove it: Ignition runs no unit commands (command: is a cloud-config coreos.units key); "enabled": true has systemd start the unit at boot',
  runtime: 'remove it: Ignition writes units to /etc/systemd/system, never /run (runtime: is a cloud-config coreos.units key)',
  content: 'Ignition calls it "contents"',
};

/**
 * The config with only the keys of spec 2.<minor>.0, and an issue for each key left out (a
 * warning: Ignition 2.x ignores it too) or value of the wrong type (an error: Ignition 2.x
 * refuses the config).
 */
export function knownKeys2x(config: unknown, minor: number, issues: IgnitionIssue[]): Record<string, unknown> {
  return (clean(config, CONFIG, [], minor, issues) as Record<string, unknown> | undefined) ?? {};
}

function clean(value: unknown, field: Field, path: JsonPath, minor: number, issues: IgnitionIssue[]): unknown {
  const wrong = (what: string, fix: string) => {
    issues.push({ path, level: 'error', message: `${showPath(path)} must be ${what}`, fix });
    return undefined;
  };
  if (typeof field === 'string') return leaf(value, field) ? value : wrong(LEAF_NAMES[field], `write it as ${LEAF_NAMES[field]}, as in the Ignition spec`);
  if (Array.isArray(field)) {
    if (!Array.isArray(value)) return wrong('a list', 'write it as a JSON list: [ {...}, ... ]');
    return value.map((v, i) => clean(v, field[0], [...path, i], minor, issues));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return wrong('an object', 'write it as a JSON object: { "key": value, ... }');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const at = [...path, k];
    const since = [0, 1, 2, 3].find((n) => Object.hasOwn(field, n ? `${k}@${n}` : k));
    if (since === undefined) {
      const near = closest(k, Object.keys(field).map((f) => f.replace(/@\d$/, '')));
      const fix = CLOUD_CONFIG_KEYS[k] ?? (near ? `did you mean "${near}"?` : 'remove it');
      issues.push({ path: at, level: 'warning', message: `${showPath(at)} is not an Ignition 2.${minor}.0 key: Ignition ignores it, and so does the translation`, fix });
    } else if (since > minor) {
      issues.push({ path: at, level: 'warning', message: `${showPath(at)} is a spec 2.${since}.0 key, but the config says 2.${minor}.0: its Ignition ignores it, and so does the translation`, fix: `raise ignition.version to 2.${since}.0, or remove it` });
    } else {
      out[k] = clean(v, field[since ? `${k}@${since}` : k], at, minor, issues);
    }
  }
  return out;
}

const LEAF_NAMES: Record<Leaf, string> = { s: 'a string', i: 'a whole number', b: 'true or false', ss: 'a list of strings' };

function leaf(v: unknown, kind: Leaf): boolean {
  if (kind === 's') return typeof v === 'string';
  if (kind === 'i') return Number.isInteger(v);
  if (kind === 'b') return typeof v === 'boolean';
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}
