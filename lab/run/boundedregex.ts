import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

/**
 * Regexes from a scenario run on guest output, which the lab does not control: a pattern such as
 * ^(a+)+$ backtracks for minutes on a few dozen characters. So each one runs in a worker thread
 * while the caller waits for it synchronously (Atomics.wait) up to a deadline; one that takes
 * longer has its worker terminated and throws, which fails the step instead of freezing the run.
 * Same JavaScript regex semantics as before; the callers stay synchronous.
 */
export const REGEX_DEADLINE_MS = 2000;

/** Thrown when a pattern takes longer than the deadline. */
export class RegexTimeout extends Error {}

type Op = 'count' | 'group' | 'test';
interface Reply { value?: number | string | boolean | null; error?: string }

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const flag = new Int32Array(workerData.shared);
const port = workerData.port;
Atomics.store(flag, 1, 1);
Atomics.notify(flag, 1);
parentPort.on('message', (m) => {
  let reply;
  try {
    const re = new RegExp(m.pattern, m.flags);
    if (m.op === 'count') reply = { value: [...m.text.matchAll(re)].length };
    else if (m.op === 'group') { const r = m.text.match(re); reply = { value: r && r[1] !== undefined ? r[1] : null }; }
    else reply = { value: re.test(m.text) };
  } catch (e) {
    reply = { error: String(e && e.message) };
  }
  port.postMessage(reply);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;

let current: { worker: Worker; port: MessagePort; flag: Int32Array } | undefined;

function worker(): NonNullable<typeof current> {
  if (current) return current;
  const shared = new SharedArrayBuffer(8);
  const flag = new Int32Array(shared);
  const { port1, port2 } = new MessageChannel();
  const w = new Worker(WORKER, { eval: true, workerData: { shared, port: port2 }, transferList: [port2] });
  w.unref();
  port1.unref();
  if (Atomics.wait(flag, 1, 0, 30_000) === 'timed-out') {
    void w.terminate();
    throw new Error('the worker thread that runs scenario regexes did not start within 30s');
  }
  return (current = { worker: w, port: port1, flag });
}

function run(op: Op, pattern: string, flags: string, text: string): Reply['value'] {
  const w = worker();
  Atomics.store(w.flag, 0, 0);
  w.worker.postMessage({ op, pattern, flags, text });
  if (Atomics.wait(w.flag, 0, 0, REGEX_DEADLINE_MS) === 'timed-out') {
    current = undefined;
    void w.worker.terminate();
    throw new RegexTimeout(`regex /${pattern}/ took longer than ${REGEX_DEADLINE_MS / 1000}s on ${text.length} characters of output; simplify it (e.g. no nested repetition such as (a+)+)`);
  }
  const reply = receiveMessageOnPort(w.port)?.message as Reply | undefined;
  if (!reply) throw new Error(`the regex worker answered nothing for /${pattern}/`);
  if (reply.error !== undefined) throw new Error(`invalid regex /${pattern}/: ${reply.error}`);
  return reply.value;
}

/** How many times pattern matches text (flags should include g). */
export function regexCount(pattern: string, flags: string, text: string): number {
  return run('count', pattern, flags.includes('g') ? flags : `${flags}g`, text) as number;
}

/** The first group of pattern's first match in text, or undefined. */
export function regexGroup(pattern: string, flags: string, text: string): string | undefined {
  return (run('group', pattern, flags, text) as string | null) ?? undefined;
}

/** Whether pattern matches text. */
export function regexTest(pattern: string, flags: string, text: string): boolean {
  return run('test', pattern, flags, text) as boolean;
}
