import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A throwaway folder with the given files; remove() deletes it. */
export function tempTree(files: Record<string, string>): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'corelab-test-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const CLOUD_CONFIG = '#cloud-config\nhostname: "{{node.name}}"\n';

export function scenario(body: string): Record<string, string> {
  return { 'scenario.yaml': body, 'cloud-config.yaml': CLOUD_CONFIG };
}

/** An empty CORELAB_CACHE of the test's own, removed (and unset) when the test ends. */
export function emptyCache(t: import('ava').ExecutionContext): string {
  const cache = tempTree({});
  process.env.CORELAB_CACHE = cache.dir;
  t.teardown(() => {
    delete process.env.CORELAB_CACHE;
    cache.remove();
  });
  return cache.dir;
}
