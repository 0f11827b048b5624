import test from 'ava';
import { NotYet, TimeoutError, waitUntil } from '../lab/util/poll.js';

test('waitUntil returns once the attempt succeeds', async (t) => {
  let n = 0;
  const v = await waitUntil('three tries', async () => {
    if (++n < 3) throw new NotYet(`try ${n}`);
    return n;
  }, { timeoutMs: 5000, intervalMs: 10 });
  t.is(v, 3);
});

test('waitUntil fails with the last output on timeout', async (t) => {
  const err = await t.throwsAsync(waitUntil('never', async () => {
    throw new NotYet('still 2 members');
  }, { timeoutMs: 300, intervalMs: 50 }), { instanceOf: TimeoutError });
  t.regex(err!.message, /timed out after 0\.3s .* waiting for never; last saw:\n {4}still 2 members/);
});

test('waitUntil stops at once on a real error', async (t) => {
  let n = 0;
  await t.throwsAsync(waitUntil('x', async () => {
    n++;
    throw new Error('boom');
  }, { timeoutMs: 5000, intervalMs: 10 }), { message: 'boom' });
  t.is(n, 1);
});

test('waitUntil is interrupted by its signal', async (t) => {
  const c = new AbortController();
  setTimeout(() => c.abort(), 100);
  await t.throwsAsync(waitUntil('x', async () => {
    throw new NotYet('no');
  }, { timeoutMs: 10_000, intervalMs: 20, signal: c.signal }), { message: /interrupted/ });
});

test('waitUntil with a signal aborted before it starts gives up at once, without an attempt', async (t) => {
  const c = new AbortController();
  c.abort();
  let attempts = 0;
  const t0 = Date.now();
  await t.throwsAsync(waitUntil('SSH', async () => {
    attempts++;
    throw new NotYet('no');
  }, { timeoutMs: 10_000, intervalMs: 1000, signal: c.signal }), { message: 'interrupted while waiting for SSH' });
  t.is(attempts, 0);
  t.true(Date.now() - t0 < 500);
});
