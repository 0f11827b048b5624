import { LabError } from '../../lab/util/errors.js';

/** The LabError a promise rejects with; anything else (or no rejection) fails the test. */
export async function rejects(p: Promise<unknown>): Promise<LabError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof LabError) return err;
    throw err;
  }
  throw new Error('expected a LabError');
}
