import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '../util/errors.js';

/** One apt source line: the parts mmdebstrap needs to fetch a suite. */
export interface AptSource {
  uri: string;
  suite: string;
  components: string[];
  signedBy?: string;
}

export const SUITE = 'bookworm';

/** Reads one-line (sources.list) and deb822 (*.sources) apt sources. */
export function parseAptSources(text: string, deb822: boolean): AptSource[] {
  return deb822 ? parseDeb822(text) : parseOneLine(text);
}

function parseOneLine(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line.startsWith('deb ')) continue;
    let rest = line.slice(4).trim();
    let signedBy: string | undefined;
    const opts = rest.match(/^\[([^\]]*)\]\s*/);
    if (opts) {
      rest = rest.slice(opts[0].length);
      signedBy = opts[1].match(/signed-by=(\S+)/)?.[1];
    }
    const [uri, suite, ...components] = rest.split(/\s+/);
    if (uri && suite) out.push({ uri, suite, components, signedBy });
  }
  return out;
}

function parseDeb822(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let key = '';
    for (const raw of stanza.split('\n')) {
      if (raw.startsWith('#')) continue;
      if (/^\s/.test(raw) && key) {
        fields.set(key, `${fields.get(key)} ${raw.trim()}`);
        continue;
      }
      const m = raw.match(/^([A-Za-z-]+):\s*(.*)$/);
      if (m) fields.set((key = m[1].toLowerCase()), m[2]);
    }
    if (!(fields.get('types') ?? '').split(/\s+/).includes('deb')) continue;
    if ((fields.get('enabled') ?? 'yes').toLowerCase() === 'no') continue;
    const signedBy = fields.get('signed-by');
    for (const uri of (fields.get('uris') ?? '').split(/\s+/).filter(Boolean)) {
      for (const suite of (fields.get('suites') ?? '').split(/\s+/).filter(Boolean)) {
        out.push({ uri, suite, components: (fields.get('components') ?? '').split(/\s+/).filter(Boolean), signedBy });
      }
    }
  }
  return out;
}

/** The host's apt sources that serve Debian bookworm's main component. */
export function hostBookwormSources(etcApt = '/etc/apt'): AptSource[] {
  const files: Array<[string, boolean]> = [];
  if (existsSync(join(etcApt, 'sources.list'))) files.push([join(etcApt, 'sources.list'), false]);
  const dir = join(etcApt, 'sources.list.d');
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).sort()) {
      if (f.endsWith('.list')) files.push([join(dir, f), false]);
      else if (f.endsWith('.sources')) files.push([join(dir, f), true]);
    }
  }
  return files
    .flatMap(([f, deb822]) => parseAptSources(readFileSync(f, 'utf8'), deb822))
    .filter((s) => /^bookworm(-updates|-security|\/updates)?$/.test(s.suite) && s.components.includes('main'));
}

/**
 * The sources.list text the labos build uses: from an explicit Debian mirror URL, else from the
 * host's own apt sources; fails with the fix when neither can serve bookworm.
 */
export function labosSources(mirror?: string, etcApt = '/etc/apt'): string {
  if (mirror) {
    if (!/^(https?|file):\/\//.test(mirror)) {
      throw new LabError(`--mirror must be a URL of a Debian mirror (http://, https:// or file://), got "${mirror}"`, {
        fix: 'pass the base URL of a Debian archive that has the bookworm suite, e.g. --mirror http://HOST/debian',
      });
    }
    return `deb ${mirror} ${SUITE} main\ndeb ${mirror} ${SUITE}-updates main\n`;
  }
  const sources = hostBookwormSources(etcApt);
  if (!sources.some((s) => s.suite === SUITE)) {
    throw new LabError(`this host's apt sources (${etcApt}) do not serve Debian ${SUITE}, which the labos image is built from`, {
      fix: `pass a Debian mirror explicitly: corelab images build labos --mirror URL (or set CORELAB_DEBIAN_MIRROR=URL)`,
    });
  }
  return sources
    .map((s) => `deb ${s.signedBy && existsSync(s.signedBy) ? `[signed-by=${s.signedBy}] ` : ''}${s.uri} ${s.suite} main`)
    .join('\n') + '\n';
}
