import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LabError } from '../util/errors.js';

/**
 * `run --report DIR` is checked before anything boots: DIR is a folder corelab can write into, or
 * does not exist yet and can be made (its nearest existing parent is a writable folder). Otherwise
 * the run would only find out when writing the report, after the lab has run.
 */
export function checkReportDir(dir: string): void {
  const fix = 'give --report a folder (made if missing), e.g. --report out';
  let at = resolve(dir);
  for (;;) {
    const st = statOf(at);
    if (st) {
      if (!st.isDirectory()) {
        const what = at === resolve(dir) ? `--report ${dir} is a file, not a folder` : `--report ${dir} cannot be made: ${at} is a file, not a folder`;
        throw new LabError(what, { fix: `${fix}, or move ${at} away` });
      }
      try {
        accessSync(at, constants.W_OK | constants.X_OK);
      } catch {
        throw new LabError(`--report ${dir}: ${at} is a folder this user cannot write into`, { fix });
      }
      return;
    }
    const up = dirname(at);
    if (up === at) return;
    at = up;
  }
}

function statOf(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
