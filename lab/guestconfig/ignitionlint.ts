/**
 * The lint of an Ignition node config (JSON), each problem at the line and column of the key it
 * is about: invalid JSON, a missing or unreadable spec version, a path that is not absolute or
 * leaves "/", and, for an image whose Ignition reads 3.x only (ignition_spec: 3), what the 2.x to
 * 3.3.0 translation cannot carry over (errors) or drops because Ignition ignores it (warnings).
 * A 2.x config delivered as written (Flatcar) gets the same warnings: its Ignition ignores those keys too.
 */
import type { CatalogEntry } from '../images/catalog.js';
import type { Problem } from '../scenario/yamlsource.js';
import { knownKeys2x } from './ignition2schema.js';
import { pathIssues, spec2Minor, SPEC2_VERSIONS, SPEC3_VERSIONS, translateIgnition2to3, type IgnitionIssue } from './ignition2to3.js';
import { jsonErrorAt, JsonPositions } from './jsonpos.js';

/** The versions an image's Ignition config may say: for ignition_spec 3, 2.x (translated) and 3.0-3.3. */
export function acceptedVersions(image?: Pick<CatalogEntry, 'ignitionSpec'>): string[] | undefined {
  return image?.ignitionSpec === 3 ? [...SPEC2_VERSIONS, ...SPEC3_VERSIONS] : undefined;
}

/** Problems of an Ignition config (text with the lab's placeholders filled), named by file. */
export function lintIgnition(file: string, text: string, image?: Pick<CatalogEntry, 'name' | 'ignitionSpec'>): Problem[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return [{ file, ...jsonErrorAt(text, err as Error), message: `not valid JSON: ${(err as Error).message}`, fix: 'Ignition configs are JSON; check the quotes and commas here' }];
  }
  const pos = new JsonPositions(text);
  const problem = (i: IgnitionIssue): Problem => ({ file, ...pos.of(i.path), message: i.message, fix: i.fix, ...(i.level === 'warning' ? { severity: 'warning' as const } : {}) });
  const accepted = acceptedVersions(image);
  const version = (doc as { ignition?: { version?: unknown } } | null)?.ignition?.version;
  const reads = accepted ? ` (${image!.name} takes ${accepted.join(', ')})` : '';
  if (typeof version !== 'string') {
    return [problem({ path: ['ignition', 'version'], level: 'error', message: `an Ignition config needs ignition.version${reads}`, fix: 'add "ignition": { "version": "3.3.0" }' })];
  }
  if (accepted && !accepted.includes(version)) {
    return [problem({
      path: ['ignition', 'version'], level: 'error',
      message: `ignition.version "${version}" is not a spec ${image!.name} reads: its Ignition reads ${SPEC3_VERSIONS.join(', ')}, and corelab translates ${SPEC2_VERSIONS.join(', ')} to 3.3.0`,
      fix: `use one of ${accepted.join(', ')}`,
    })];
  }
  const byLine = (ps: Problem[]) => ps.sort((a, b) => a.line - b.line || a.column - b.column);
  if (accepted && SPEC2_VERSIONS.includes(version)) return byLine(translateIgnition2to3(doc).issues.map(problem));
  // Delivered as written: the paths, and (2.x) the keys its Ignition ignores.
  const minor = spec2Minor(version);
  const ignored: IgnitionIssue[] = [];
  if (minor !== undefined) knownKeys2x(doc, minor, ignored);
  return byLine([...ignored.filter((i) => i.level === 'warning'), ...pathIssues(doc)].map(problem));
}
