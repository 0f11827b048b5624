import type { CommandResult } from './guest.js';
import type { Step, RunStep } from './scenario.js';
import { capture, check } from './expect.js';
import { render, type Vars } from './template.js';
import { NotYet, TimeoutError, waitUntil } from './retry.js';
import { log } from './log.js';

export type StepStatus = 'passed' | 'failed' | 'skipped';

export interface StepResult {
  index: number;
  name: string;
  kind: Step['kind'];
  node: string;
  line: number;
  note?: string;
  status: StepStatus;
  startedAt: string;
  durationMs: number;
  attempts: number;
  command?: string;
  exitCode?: number | null;
  stdout?: string;
  stderr?: string;
  failures?: string[];
  captured?: Record<string, string>;
  message?: string;
}

/** What steps may do to the lab: run a command on a node, pull a node's plug, power it on again. */
export interface StepTarget {
  run(node: string, command: string, timeoutMs: number): Promise<CommandResult>;
  powerOff(node: string): Promise<void>;
  /** Boots the node again from its own disk and waits until it answers over SSH. */
  powerOn(node: string, signal?: AbortSignal): Promise<void>;
}

/** Runs one step; values it captures are added to vars for the steps after it. */
export async function runStep(step: Step, target: StepTarget, vars: Vars, signal?: AbortSignal): Promise<StepResult> {
  const t0 = Date.now();
  const node = render(step.node, vars);
  const base = { index: step.index, name: step.name, kind: step.kind, node, line: step.line, note: step.note, startedAt: new Date(t0).toISOString() };
  try {
    if (step.kind === 'poweroff') {
      await target.powerOff(node);
      return { ...base, status: 'passed', durationMs: Date.now() - t0, attempts: 1, message: `${node} powered off (plug pulled)` };
    }
    if (step.kind === 'poweron') {
      await target.powerOn(node, signal);
      return { ...base, status: 'passed', durationMs: Date.now() - t0, attempts: 1, message: `${node} powered on and answers over SSH` };
    }
    const r = await runCommandStep({ ...step, node }, target, vars, signal);
    return { ...base, ...r, durationMs: Date.now() - t0 };
  } catch (err) {
    return { ...base, status: 'failed', durationMs: Date.now() - t0, attempts: 1, message: (err as Error).message };
  }
}

async function runCommandStep(step: RunStep, target: StepTarget, vars: Vars, signal?: AbortSignal) {
  const command = render(step.command, vars);
  let last: CommandResult | undefined;
  let failures: string[] = [];
  let attempts = 0;
  let captured: Vars = {};
  const attempt = async () => {
    attempts++;
    last = await target.run(step.node, command, step.timeoutMs);
    failures = check(last, step.expect, vars);
    if (!failures.length && step.capture.length) {
      const c = capture(last, step.capture, vars);
      failures = c.problems;
      captured = c.values;
    }
    if (failures.length && step.until) throw new NotYet(`${failures.join('; ')}\n${tail(last.stdout + last.stderr, 12)}`);
  };
  let message: string | undefined;
  if (step.until) {
    log(`waiting up to ${step.until.timeoutMs / 1000}s, every ${step.until.intervalMs / 1000}s`);
    const t0 = Date.now();
    const ticker = setInterval(() => log(`still waiting after ${Math.round((Date.now() - t0) / 1000)}s (${attempts} attempts): ${failures[0] ?? last?.error ?? ''}`), 30_000);
    try {
      await waitUntil(`"${step.name}"`, attempt, { ...step.until, signal });
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      message = `not true within ${step.until.timeoutMs / 1000}s (${attempts} attempts)`;
    } finally {
      clearInterval(ticker);
    }
  } else {
    await attempt();
  }
  const result = last!;
  if (!failures.length) Object.assign(vars, captured);
  return {
    captured: Object.keys(captured).length ? captured : undefined,
    status: (failures.length ? 'failed' : 'passed') as 'failed' | 'passed',
    attempts,
    command,
    exitCode: result.exitCode,
    stdout: result.stdout,
    stderr: result.stderr,
    failures: failures.length ? failures : undefined,
    message,
  };
}

export function tail(text: string, lines: number): string {
  const all = text.trimEnd().split('\n');
  return (all.length > lines ? ['…', ...all.slice(-lines)] : all).join('\n');
}
