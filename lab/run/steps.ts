import type { CommandResult } from '../machine/ssh.js';
import type { HttpStep, NodeAction, Step, RunStep } from '../scenario/model.js';
import type { StepResult } from './results.js';
import { tail } from '../util/text.js';
import { capture, check, checkMatcher } from './expect.js';
import { assertHostUrl, guardedFetch, publishedHostPorts } from './hosturl.js';
import { render, type Vars } from '../util/template.js';
import { NotYet, TimeoutError, waitUntil } from '../util/poll.js';
import { liveStatus, log } from '../util/log.js';

/** What steps may do to the lab. */
export interface StepTarget {
  run(node: string, command: string, timeoutMs: number): Promise<CommandResult>;
  /** Power and link faults on one node; resolves with what was done. */
  act(action: NodeAction, node: string, signal?: AbortSignal): Promise<string>;
  partition(groups: string[][]): Promise<string>;
  heal(): Promise<string>;
}

/** Runs one step; values it captures are added to vars for the steps after it. */
export async function runStep(step: Step, target: StepTarget, vars: Vars, signal?: AbortSignal): Promise<StepResult> {
  const t0 = Date.now();
  const node = render(step.node, vars);
  const base = { index: step.index, name: step.name, kind: step.kind, node, line: step.line, note: step.note, startedAt: new Date(t0).toISOString() };
  const done = (message: string): StepResult => ({ ...base, status: 'passed', durationMs: Date.now() - t0, attempts: 1, message });
  try {
    switch (step.kind) {
      case 'run':
        return { ...base, ...(await runCommandStep(step, target, vars, signal)), durationMs: Date.now() - t0 };
      case 'http':
        return { ...base, ...(await runHttpStep({ ...step, node }, target, vars, signal)), durationMs: Date.now() - t0 };
      case 'partition':
        return done(await target.partition(step.groups.map((g) => g.map((n) => render(n, vars)))));
      case 'heal':
        return done(await target.heal());
      default:
        return done(await target.act(step.kind, node, signal));
    }
  } catch (err) {
    return { ...base, status: 'failed', durationMs: Date.now() - t0, attempts: 1, message: (err as Error).message };
  }
}

interface Observation {
  result: CommandResult;
  failures: string[];
  captured?: Vars;
}

/** Observes once, or until the observation has no failures (with until); the last one counts. */
async function observe(name: string, until: RunStep['until'], once: () => Promise<Observation>, signal?: AbortSignal) {
  let last: Observation | undefined;
  let attempts = 0;
  const attempt = async () => {
    attempts++;
    last = await once();
    if (last.failures.length && until) throw new NotYet(`${last.failures.join('; ')}\n${tail(last.result.stdout + last.result.stderr, 12)}`);
  };
  let message: string | undefined;
  if (until) {
    log(`waiting up to ${until.timeoutMs / 1000}s, every ${until.intervalMs / 1000}s`);
    const t0 = Date.now();
    const ticker = setInterval(() => log(`still waiting after ${Math.round((Date.now() - t0) / 1000)}s (${attempts} attempts): ${last?.failures[0] ?? ''}`), 30_000);
    liveStatus(() => `"${name}": waiting ${Math.round((Date.now() - t0) / 1000)}s of ${until.timeoutMs / 1000}s, ${attempts} attempts${last?.failures[0] ? `; last: ${last.failures[0]}` : ''}`);
    try {
      await waitUntil(`"${name}"`, attempt, { ...until, signal });
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      message = `not true within ${until.timeoutMs / 1000}s (${attempts} attempts)`;
    } finally {
      clearInterval(ticker);
      liveStatus(undefined);
    }
  } else {
    await attempt();
  }
  const { result, failures } = last!;
  return {
    status: (failures.length ? 'failed' : 'passed') as 'failed' | 'passed',
    attempts,
    command: result.command,
    exitCode: result.exitCode,
    stdout: result.stdout,
    stderr: result.stderr,
    failures: failures.length ? failures : undefined,
    captured: failures.length ? undefined : last!.captured,
    message,
  };
}

async function runCommandStep(step: RunStep, target: StepTarget, vars: Vars, signal?: AbortSignal) {
  const command = render(step.command, vars);
  const nodes = step.nodes.map((n) => render(n, vars));
  const r = await observe(step.name, step.until, async () => {
    const results = await Promise.all(nodes.map((n) => target.run(n, command, step.timeoutMs)));
    const failures = results.flatMap((res, i) => check(res, step.expect, vars).map((f) => (nodes.length > 1 ? `${nodes[i]}: ${f}` : f)));
    const result = nodes.length === 1 ? results[0] : combine(results, command);
    if (failures.length || !step.capture.length) return { result, failures };
    const c = capture(results[0], step.capture, vars);
    return { result, failures: c.problems, captured: c.values };
  }, signal);
  if (r.captured) Object.assign(vars, r.captured);
  return r;
}

/**
 * One result for a command run on several nodes, for the report: outputs under "== node ==" headers,
 * the worst exit. Expectations were checked against each node's own result.
 */
function combine(results: CommandResult[], command: string): CommandResult {
  const join = (k: 'stdout' | 'stderr') => results.filter((r) => r[k]).map((r) => `== ${r.node} ==\n${r[k]}`).join('');
  const codes = results.map((r) => r.exitCode);
  return {
    node: results.map((r) => r.node).join(','),
    command,
    stdout: join('stdout'),
    stderr: join('stderr'),
    exitCode: codes.includes(null) ? null : Math.max(...(codes as number[])),
    durationMs: Math.max(...results.map((r) => r.durationMs)),
  };
}

const STATUS_MARK = '__corelab_http_status__';

async function runHttpStep(step: HttpStep, target: StepTarget, vars: Vars, signal?: AbortSignal) {
  const url = render(step.url, vars);
  const published = publishedHostPorts(vars);
  if (step.node === 'host') assertHostUrl(url, published);
  return observe(step.name, step.until, async () => {
    const result = step.node === 'host' ? await hostGet(url, published, step.timeoutMs) : await nodeGet(target, step.node, url, step.timeoutMs);
    const failures: string[] = [];
    const status = Number(result.stderr.match(new RegExp(`${STATUS_MARK} (\\d+)`))?.[1] ?? NaN);
    if (result.exitCode !== 0) failures.push(`GET ${url} failed: ${result.error ?? result.stderr.replace(new RegExp(`${STATUS_MARK}.*`), '').trim()}`);
    else if (status !== step.status) failures.push(`GET ${url} answered HTTP ${status}, expected ${step.status}`);
    for (const m of step.body) {
      const problem = checkMatcher(result.stdout, m, vars);
      if (problem) failures.push(`body ${problem}`);
    }
    return { result, failures };
  }, signal);
}

async function nodeGet(target: StepTarget, node: string, url: string, timeoutMs: number): Promise<CommandResult> {
  const secs = Math.max(1, Math.floor(timeoutMs / 1000) - 1);
  const quoted = `'${url.replace(/'/g, `'\\''`)}'`;
  const r = await target.run(node, `curl -sS --max-time ${secs} -w '\\n${STATUS_MARK} %{http_code}' ${quoted}`, timeoutMs);
  // The -w line follows the body on stdout: move it to stderr, where the status is read from.
  const i = r.stdout.lastIndexOf(`\n${STATUS_MARK}`);
  return i < 0 ? r : { ...r, stdout: r.stdout.slice(0, i), stderr: r.stderr + r.stdout.slice(i + 1) };
}

async function hostGet(url: string, published: number[], timeoutMs: number): Promise<CommandResult> {
  const t0 = Date.now();
  const base = { node: 'host', command: `GET ${url}`, durationMs: 0 };
  try {
    const res = await guardedFetch(url, published, timeoutMs);
    const body = await res.text();
    return { ...base, stdout: body, stderr: `${STATUS_MARK} ${res.status}`, exitCode: 0, durationMs: Date.now() - t0 };
  } catch (err) {
    return { ...base, stdout: '', stderr: '', exitCode: 1, error: (err as Error).message, durationMs: Date.now() - t0 };
  }
}
