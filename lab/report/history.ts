import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import type { ScenarioResult } from '../run/results.js';
import type { StepResult } from '../run/results.js';
import { LabError } from '../util/errors.js';
import { failureBody } from './junit.js';

/** A step (or scenario, or boot) is flagged slow on a night it took more than this many times its median... */
export const SLOW_FACTOR = 1.5;
/** ...and at least this much longer, so that sub-second jitter is not flagged. */
export const SLOW_MIN_MS = 1000;

export type NightStatus = 'passed' | 'failed' | 'flaky' | 'skipped' | 'error';

export interface Night {
  /** The folder given on the command line, as given. */
  dir: string;
  label: string;
  startedAt: string;
  reports: string[];
}

/** One thing measured per night (a step, a whole scenario, a node's boot): null where it did not run. */
export interface Series {
  status: Array<NightStatus | null>;
  durationMs: Array<number | null>;
  medianMs?: number;
  /** Nights (indexes into History.nights) on which it took more than SLOW_FACTOR × its median. */
  slow: number[];
}

export interface StepHistory extends Series {
  index: number;
  name: string;
}

/** A failure of the last night, and the first night of the unbroken run of failures it ends. */
export interface CurrentFailure {
  scenario: string;
  /** The failing step's name, or "lab set-up". */
  step: string;
  since: number;
  sinceNight: string;
  nights: number;
  /** What failed on that first night: command, exit status, expectations, output tail (or the set-up error). */
  output: string;
}

export interface ScenarioHistory extends Series {
  scenario: string;
  file: string;
  steps: StepHistory[];
  boot: Array<{ node: string } & Series>;
}

export interface History {
  generatedAt: string;
  nights: Night[];
  scenarios: ScenarioHistory[];
  currentFailures: CurrentFailure[];
}

interface ReportFile {
  startedAt?: string;
  generatedAt?: string;
  scenarios: ScenarioResult[];
}

/** Every report.json under dir (a night's folder may hold one per shard). */
function findReports(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new LabError(`${dir}: no such folder`, { fix: 'give one folder per night, each holding the report.json of that night\'s run (or of each shard)' });
  const all = readdirSync(dir, { recursive: true, withFileTypes: false }) as string[];
  const found = all.filter((p) => basename(p) === 'report.json').map((p) => join(dir, p)).sort();
  if (!found.length) throw new LabError(`${dir}: no report.json in this folder or below`, { fix: 'point corelab history at the folders corelab run --report wrote (one per night)' });
  return found;
}

function readReport(file: string): ReportFile {
  let data: ReportFile;
  try {
    data = JSON.parse(readFileSync(file, 'utf8')) as ReportFile;
  } catch (err) {
    throw new LabError(`${file}: not a readable report.json (${(err as Error).message})`, { file, fix: 'remove it or write it again with corelab run --report' });
  }
  if (!Array.isArray(data?.scenarios)) throw new LabError(`${file}: has no "scenarios" list; not a corelab report.json`, { file, fix: 'give folders written by corelab run --report' });
  return data;
}

/** Reads each folder as one night; nights are ordered by when their run started. */
export function readNights(dirs: string[]): Array<{ night: Night; results: ScenarioResult[] }> {
  const nights = dirs.map((dir) => {
    const reports = findReports(dir);
    const files = reports.map(readReport);
    const results = files.flatMap((f) => f.scenarios);
    const starts = [...files.map((f) => f.startedAt), ...results.map((r) => r.startedAt), ...files.map((f) => f.generatedAt)].filter((s): s is string => !!s);
    const startedAt = files.map((f) => f.startedAt).filter(Boolean).sort()[0] ?? starts.sort()[0] ?? new Date(statSync(reports[0]).mtimeMs).toISOString();
    return { night: { dir, label: basename(dir.replace(/\/+$/, '')) || dir, startedAt, reports: reports.map((r) => relative(process.cwd(), r)) }, results };
  });
  // Folder names label the nights; where two share a name (nights/1/out, nights/2/out), the path does.
  const labels = nights.map((n) => n.night.label);
  for (const n of nights) if (labels.filter((l) => l === n.night.label).length > 1) n.night.label = n.night.dir;
  return nights.sort((a, b) => a.night.startedAt.localeCompare(b.night.startedAt));
}

/** The status a night gives one step: flaky when it failed in an attempt and passed in the last. */
function stepStatus(r: ScenarioResult, s: StepResult): NightStatus {
  if (s.status !== 'passed') return s.status;
  const before = (r.attempts ?? []).slice(0, -1);
  return before.some((a) => a.steps.some((x) => x.index === s.index && x.status === 'failed')) ? 'flaky' : 'passed';
}

/** Several results of one scenario in a night (--repeat): failed if all failed, flaky if mixed. */
function combine(statuses: NightStatus[]): NightStatus | null {
  const ran = statuses.filter((s) => s !== 'skipped');
  if (!statuses.length) return null;
  if (!ran.length) return 'skipped';
  const bad = ran.filter((s) => s === 'failed' || s === 'error');
  if (bad.length === ran.length) return bad.includes('error') && !bad.includes('failed') ? 'error' : 'failed';
  return bad.length || ran.includes('flaky') ? 'flaky' : 'passed';
}

export function median(xs: number[]): number | undefined {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Fills medianMs and slow from the durations of the nights it ran (passed or flaky). */
function flagSlow<T extends Series>(s: T): T {
  const timed = s.durationMs.map((d, i) => (d !== null && (s.status[i] === 'passed' || s.status[i] === 'flaky') ? d : null));
  const m = median(timed.filter((d): d is number => d !== null));
  s.medianMs = m;
  s.slow = m === undefined ? [] : timed.flatMap((d, i) => (d !== null && d > SLOW_FACTOR * m && d - m >= SLOW_MIN_MS ? [i] : []));
  return s;
}

/** Per-night series of a measure over the results of one scenario, one list of results per night. */
function series(perNight: ScenarioResult[][], pick: (r: ScenarioResult) => { status: NightStatus; ms?: number } | undefined): Series {
  const status: Series['status'] = [];
  const durationMs: Series['durationMs'] = [];
  for (const rs of perNight) {
    const got = rs.map(pick).filter((g): g is { status: NightStatus; ms?: number } => !!g);
    status.push(combine(got.map((g) => g.status)));
    const ms = got.filter((g) => g.status !== 'skipped' && g.ms !== undefined).map((g) => g.ms!);
    durationMs.push(median(ms) ?? null);
  }
  return flagSlow({ status, durationMs, slow: [] });
}

function scenarioHistory(name: string, perNight: ScenarioResult[][]): ScenarioHistory {
  const latest = perNight.flat().at(-1)!;
  const whole = series(perNight, (r) => ({ status: r.status, ms: r.durationMs }));
  // Steps by name (an added step does not shift the others), in the order of the latest night.
  const names = [...new Set(perNight.flat().reverse().flatMap((r) => r.steps.map((s) => s.name)))];
  const order = (n: string) => latest.steps.find((s) => s.name === n)?.index ?? Infinity;
  const steps = names.sort((a, b) => order(a) - order(b)).map((stepName) => {
    const s = series(perNight, (r) => {
      const st = r.steps.find((x) => x.name === stepName);
      return st && { status: stepStatus(r, st), ms: st.durationMs };
    });
    return { index: order(stepName), name: stepName, ...s };
  });
  const nodes = [...new Set(perNight.flat().flatMap((r) => r.nodes.map((n) => n.name)))];
  const boot = nodes.map((node) => ({
    node,
    ...series(perNight, (r) => {
      const n = r.nodes.find((x) => x.name === node);
      return n?.bootMs === undefined ? undefined : { status: 'passed', ms: n.bootMs };
    }),
  }));
  return { scenario: name, file: latest.file, ...whole, steps, boot };
}

/**
 * Failures of the last night a scenario ran, each with the first night of the unbroken run of
 * failures it ends (nights it was skipped or absent neither break the run nor start it).
 */
function currentFailures(h: ScenarioHistory, perNight: ScenarioResult[][], nights: Night[]): CurrentFailure[] {
  const last = h.status.map((s, i) => (s && s !== 'skipped' ? i : -1)).filter((i) => i >= 0).at(-1);
  if (last === undefined) return [];
  const failing = (st: NightStatus | null) => st === 'failed' || st === 'error';
  const since = (status: Series['status']) => {
    let first = last;
    for (let i = last - 1; i >= 0; i--) {
      if (failing(status[i])) first = i;
      else if (status[i] === 'passed' || status[i] === 'flaky') break;
    }
    return first;
  };
  const out: CurrentFailure[] = [];
  const make = (step: string, first: number, output: string): CurrentFailure => ({
    scenario: h.scenario, step, since: first, sinceNight: nights[first].label,
    nights: h.status.slice(first, last + 1).filter(failing).length, output,
  });
  if (h.status[last] === 'error') {
    // The set-up's own series: error on the nights it failed, passed on those it ran past it.
    const setUp = h.status.map((st, i): NightStatus | null => (perNight[i].some((r) => r.error) ? 'error' : st && st !== 'skipped' ? 'passed' : null));
    const first = since(setUp);
    out.push(make('lab set-up', first, perNight[first].find((r) => r.error)?.error ?? ''));
  }
  for (const s of h.steps.filter((x) => x.status[last] === 'failed')) {
    const first = since(s.status);
    const step = perNight[first].map((r) => r.steps.find((x) => x.name === s.name && x.status === 'failed')).find(Boolean);
    out.push(make(s.name, first, step ? failureBody(step) : ''));
  }
  return out;
}

/** The history of many nights' runs: per scenario, step and node, what each night did and how long it took. */
export function buildHistory(nights: Array<{ night: Night; results: ScenarioResult[] }>): History {
  const names = [...new Set(nights.flatMap((n) => n.results.map((r) => r.scenario)))].sort();
  const scenarios: ScenarioHistory[] = [];
  const current: CurrentFailure[] = [];
  for (const name of names) {
    const perNight = nights.map((n) => n.results.filter((r) => r.scenario === name));
    const h = scenarioHistory(name, perNight);
    scenarios.push(h);
    current.push(...currentFailures(h, perNight, nights.map((n) => n.night)));
  }
  return { generatedAt: new Date().toISOString(), nights: nights.map((n) => n.night), scenarios, currentFailures: current };
}
