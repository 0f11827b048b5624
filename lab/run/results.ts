import type { Step } from '../scenario/model.js';
import type { Accel } from '../machine/accel.js';
import type { NodeFacts } from '../cluster/facts.js';

/** What a run produces, step by step and scenario by scenario: the report layer reads these. */
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

export type NodeReport = NodeFacts;

/** What a run did with the scenario's checkpoints. */
export interface CheckpointReport {
  /** The checkpoint the run started from, if it was restored. */
  restored?: string;
  key?: string;
  /** Why a run with checkpoints went cold (none saved yet, stale, damaged, failed to restore). */
  coldReason?: string;
  /** Checkpoints this run saved, and how long saving each took. */
  saved: Array<{ name: string; key: string; ms: number; bytes: number }>;
  /** When the first step after a checkpoint started, from the start of the run, less time spent saving. */
  reached?: { name: string; ms: number; mode: 'cold' | 'restored' };
}

export interface ScenarioResult {
  scenario: string;
  file: string;
  /** With --repeat: which run this was, of how many. */
  run?: number;
  runs?: number;
  /**
   * passed: every step passed; failed: a step failed; error: the lab could not be set up, or the run
   * was interrupted; skipped: something it requires (a downloaded image, an artifact) is not here, said in skipReason;
   * flaky (with --rerun-failed): an attempt failed, a later one passed.
   */
  status: 'passed' | 'failed' | 'error' | 'skipped' | 'flaky';
  /** With --rerun-failed: which attempt this result is (1 for the first), and every attempt made, this one last. */
  attempt?: number;
  attempts?: AttemptReport[];
  error?: string;
  skipReason?: string;
  startedAt: string;
  durationMs: number;
  accel?: Accel;
  phases: Record<string, number>;
  checkpoint?: CheckpointReport;
  nodes: NodeReport[];
  steps: StepResult[];
}

/** One attempt of a scenario run with --rerun-failed, as it ran. */
export type AttemptReport = Omit<ScenarioResult, 'attempts' | 'run' | 'runs'> & { attempt: number };
