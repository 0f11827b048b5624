/**
 * The scenario layer (lab/scenario/): what a scenario file says, as data. It owns the model
 * (this file), the JSON Schema the key lists come from (schema.ts), the loader with its
 * file:line:col problems (loader.ts, steps.ts, yamlsource.ts), the variables a scenario may use
 * (variables.ts) and which scenarios a run picks (selection.ts). It imports only lab/util/.
 */

/** How a node's cloud-config reaches it: an OpenStack config-2 drive or a NoCloud cidata drive. */
export type DriveKind = 'config-2' | 'cidata';

/** Checks on a command's output; a plain string means "contains". */
export interface Matcher {
  contains?: string;
  matches?: string;
  equals?: string;
  /** With contains/matches: exactly this many occurrences. */
  times?: number;
}

/** Rows of the table a command printed (docker node ls, docker service ps, fleetctl list-units). */
export interface TableCheck {
  /** Column name → exact value, or /regex/. */
  where: Record<string, string>;
  /** Exactly this many rows; without it, at least one. */
  count?: number;
  /** Count `\\_` history rows of docker service ps too. */
  history?: boolean;
}

export interface Expectation {
  /** The exit status: a number, "nonzero" (any failure), or undefined for any status. */
  exit?: number | 'nonzero';
  stdout: Matcher[];
  stderr: Matcher[];
  table: TableCheck[];
}

/** A value taken from a step's output for later steps: the first group of a regex, or a table cell. */
export type Capture = { name: string; stdout: string } | { name: string; table: { where: Record<string, string>; column: string } };

export interface StepBase {
  index: number;
  name: string;
  line: number;
  note?: string;
  /** Save the lab after this step under this name; a later run restores it instead of replaying. */
  checkpoint?: string;
  /** Container images (repo:tag) it pulls from the registry mirror; not imported, the step is skipped. */
  containers?: string[];
}

export interface RunStep extends StepBase {
  kind: 'run';
  /** The nodes it runs on, at once; node is their names joined, for reports. */
  node: string;
  nodes: string[];
  command: string;
  expect: Expectation;
  /** Retry until the expectation holds, or fail after timeoutMs. */
  until?: { timeoutMs: number; intervalMs: number };
  /** For one attempt of the command. */
  timeoutMs: number;
  capture: Capture[];
}

/** Faults and power actions on one node. */
export const NODE_ACTIONS = ['poweroff', 'poweron', 'shutdown', 'pause', 'resume', 'linkdown', 'linkup'] as const;
export type NodeAction = (typeof NODE_ACTIONS)[number];

export interface NodeActionStep extends StepBase {
  kind: NodeAction;
  node: string;
}

/** Cuts the lab network between groups of nodes (each group keeps talking inside itself). */
export interface PartitionStep extends StepBase {
  kind: 'partition';
  node: string;
  groups: string[][];
}

/** Undoes every partition. */
export interface HealStep extends StepBase {
  kind: 'heal';
  node: string;
}

/** An HTTP GET from a node (with curl) or from the host. */
export interface HttpStep extends StepBase {
  kind: 'http';
  /** A node name, or "host". */
  node: string;
  url: string;
  status: number;
  body: Matcher[];
  until?: { timeoutMs: number; intervalMs: number };
  timeoutMs: number;
}

export type Step = RunStep | NodeActionStep | PartitionStep | HealStep | HttpStep;

/** Where something stands in a file, for problems found after loading (image name, artifacts, configs). */
export interface Pos {
  line: number;
  column: number;
}

export interface ScenarioNode {
  name: string;
  index: number;
  address: string;
  /** The node's config file (absolute) and its text, read once when the scenario is loaded. */
  configFile: string;
  config: string;
  /** Where `config:` stands in the scenario file. */
  configAt?: Pos;
  memoryMb: number;
  cpus: number;
  drive: DriveKind;
  /** Guest TCP ports the host reaches at 127.0.0.1:{{nodes.NAME.ports.PORT}}. */
  ports: number[];
}

/** A scenario file as data: validated, with paths resolved and node configs read. */
export interface Scenario {
  file: string;
  name: string;
  description: string;
  /** A catalog entry name (images/catalog.yaml), checked against the catalog by the plan. */
  image: string;
  imageAt?: Pos;
  subnet: string;
  prefix: number;
  discovery?: { size: number };
  /** Artifacts the guests need (e.g. fleet); without them the scenario is skipped, with the reason. */
  requires: string[];
  /** Where each of `requires` stands, in the same order. */
  requiresAt: Pos[];
  /** Start the registry mirror, seeded with these images. */
  registry?: { images: string[] };
  /** Serve RancherOS's releases.yml and os-services index from the host (lab/host/files.ts). */
  rancher?: RancherFiles;
  nodes: ScenarioNode[];
  steps: Step[];
  bootTimeoutMs: number;
  /** The whole scenario, set-up included; the run is stopped and torn down after it. */
  scenarioTimeoutMs?: number;
}

/** What the host serves RancherOS in place of its release and os-services URLs. */
export interface RancherFiles {
  /** releases.yml's available: images, oldest first (rancher/os:v1.5.7). */
  releases: string[];
  /** releases.yml's current: (the latest). */
  current: string;
  /** index.yml's engines: (docker-18.09.9), each with its d/ENGINE.yml. */
  engines: string[];
}
