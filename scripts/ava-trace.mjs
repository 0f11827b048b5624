// Loaded into every ava worker by run-tests.mjs (node --import; ava passes its own execArgv on to
// its workers). Appends one JSON line per test event the worker sends to ava's main process to the
// file named by CORELAB_TEST_TRACE: which file started, which tests were declared and selected
// (with skip/todo), and which passed or failed. Written synchronously, so it survives a worker or
// an ava reporter that dies; run-tests.mjs reads it to check that every selected test reported and
// to name the tests that were still running when a file crashed or ava's TAP output stopped.
import { appendFileSync } from 'node:fs';
import { isMainThread, parentPort } from 'node:worker_threads';

const trace = process.env.CORELAB_TEST_TRACE;
const KEPT = new Set(['declared-test', 'selected-test', 'test-passed', 'test-failed']);
let file;

function record(message) {
  const evt = message?.ava;
  if (!trace || !evt) return;
  if (evt.type === 'options' && evt.options?.file) {
    file = evt.options.file;
    appendFileSync(trace, JSON.stringify({ pid: process.pid, file, type: 'file-started' }) + '\n');
  } else if (KEPT.has(evt.type) && file) {
    const { type, title, skip = false, todo = false } = evt;
    appendFileSync(trace, JSON.stringify({ pid: process.pid, file, type, title, skip, todo }) + '\n');
  }
}

function wrap(target, method) {
  const original = target[method].bind(target);
  target[method] = (message, ...rest) => {
    try {
      record(message);
    } catch {
      /* tracing must never break a test run */
    }
    return original(message, ...rest);
  };
}

if (trace) {
  if (typeof process.send === 'function') {
    process.on('message', record); // the worker's options (its test file) arrive this way
    wrap(process, 'send');
  } else if (!isMainThread && parentPort) {
    parentPort.on('message', record);
    wrap(parentPort, 'postMessage');
  }
}
