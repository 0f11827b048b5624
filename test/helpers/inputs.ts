// What a test needs from outside the repo (an artifact, a cached image, root). A test may be
// skipped only when such an input is absent; an input that is there but cannot be used (a
// CORELAB_ARTIFACTS folder that does not exist, a cached file that fails its digest) is an error,
// and the test that needs it fails with the lab's message instead of hiding it as a skip.
import type { ExecutionContext, TestFn } from 'ava';
import { formatError } from '../../lab/util/errors.js';

export type Input<T> = { state: 'present'; value: T } | { state: 'absent'; why: string } | { state: 'broken'; message: string };

/** Resolves an input once, at load time: undefined means absent (why says what to supply); a throw is broken. */
export async function input<T>(why: string, resolve: () => Promise<T | undefined> | T | undefined): Promise<Input<T>> {
  try {
    const value = await resolve();
    return value === undefined || value === false ? { state: 'absent', why } : { state: 'present', value };
  } catch (err) {
    return { state: 'broken', message: formatError(err) };
  }
}

/** The input's value; a broken input throws its message, so the test fails with it. */
export function need<T>(inp: Input<T>): T {
  if (inp.state === 'broken') throw new Error(inp.message);
  if (inp.state === 'absent') throw new Error(`absent input ran its test: ${inp.why}`);
  return inp.value;
}

type Register = (title: string, impl: (t: ExecutionContext) => Promise<void> | void) => void;

/**
 * run (ava's test or test.serial), or its .skip, with the reason on the output, when one of the
 * inputs is absent and none is broken: a broken input makes the test run, and fail at need().
 */
export function ifPresent(run: TestFn | TestFn['serial'], what: string, ...inputs: Input<unknown>[]): Register {
  if (inputs.some((i) => i.state === 'broken')) return run;
  const absent = inputs.flatMap((i) => (i.state === 'absent' ? [i.why] : []));
  if (!absent.length) return run;
  console.log(`# skipping ${what}: ${absent.join('; ')}`);
  return run.skip;
}
