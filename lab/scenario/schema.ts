import { NODE_ACTIONS } from './model.js';

/**
 * The scenario format, written once as a JSON Schema (draft 2020-12). The loader takes its key
 * lists from here (keysOf), `corelab schema` prints it, and scenario.schema.json in the repository
 * is this object as JSON (a test keeps them equal), so editors complete and check scenario files
 * with `# yaml-language-server: $schema=../../scenario.schema.json`.
 */
const duration = { type: ['string', 'number'], pattern: '^[0-9]+(\\.[0-9]+)?\\s*(ms|s|m|h)?$', description: 'a duration: 90s, 5m, 1h, or a number of seconds' } as const;
const nodeRef = { type: 'string', description: 'a node name, its lab address, or a {{captured}} variable' } as const;
const matcher = {
  oneOf: [
    { type: 'string', description: 'the output contains this text' },
    {
      type: 'object',
      additionalProperties: false,
      properties: {
        contains: { type: 'string' },
        matches: { type: 'string', description: 'a JavaScript regular expression, multi-line' },
        equals: { type: 'string', description: 'the whole output, trimmed' },
        times: { type: 'integer', minimum: 0, description: 'with contains or matches: exactly this many occurrences' },
      },
    },
  ],
} as const;
const matchers = { oneOf: [matcher, { type: 'array', items: matcher }] } as const;
const where = { type: 'object', additionalProperties: { type: 'string' }, description: 'column: value (exact, /regex/, or !negated)' } as const;
const tableCheck = {
  type: 'object',
  additionalProperties: false,
  required: ['where'],
  properties: { where, count: { type: 'integer', minimum: 0 }, history: { type: 'boolean' } },
} as const;
const until = { type: 'object', additionalProperties: false, properties: { timeout: duration, interval: duration } } as const;
const machine = {
  memory: { type: 'integer', minimum: 256, maximum: 65536, description: 'MiB' },
  cpus: { type: 'integer', minimum: 1, maximum: 64 },
  drive: { enum: ['cidata', 'config-2'] },
} as const;

const containerRef = '[a-z0-9][a-z0-9._/-]{0,127}:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}';
/** RancherOS's update and os-services files, served by the host (lab/host/files.ts) instead of the internet. */
const rancher = {
  type: 'object',
  additionalProperties: false,
  description: 'serve RancherOS stand-ins from the host: releases.yml ({{rancher.upgrade_url}}, for ros os list/upgrade) and an os-services repository ({{rancher.repositories_url}}, for ros engine list/switch)',
  properties: {
    releases: { type: 'array', minItems: 1, items: { type: 'string', pattern: `^${containerRef}$` }, description: 'the images releases.yml lists as available, oldest first, e.g. rancher/os:v1.5.7' },
    current: { type: 'string', pattern: `^${containerRef}$`, description: 'releases.yml current: (the latest, what ros os upgrade takes); default the last of releases' },
    engines: { type: 'array', items: { type: 'string', pattern: '^docker-[0-9][0-9A-Za-z.-]{0,40}$' }, description: 'the engines index.yml lists, e.g. docker-18.09.9; each gets d/ENGINE.yml running rancher/os-docker:VERSION' },
  },
} as const;

export const SCENARIO_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'corelab scenario',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'nodes', 'steps'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,62}$', description: 'used in folder and report names' },
    description: { type: 'string' },
    image: { type: 'string', description: 'an entry of images/catalog.yaml (labos, flatcar-stable, rancheros-1.5.8, ...)' },
    requires: { type: 'array', items: { type: 'string' }, description: 'artifacts the guests need (fleet, etcd)' },
    network: { type: 'object', additionalProperties: false, properties: { subnet: { type: 'string', description: 'e.g. 192.168.0.0/24' } } },
    discovery: { type: 'object', additionalProperties: false, properties: { size: { type: 'integer', minimum: 1, maximum: 64 } } },
    registry: { type: 'object', additionalProperties: false, properties: { images: { type: 'array', items: { enum: ['nginx'] } } } },
    rancher,
    defaults: { type: 'object', additionalProperties: false, properties: machine },
    timeouts: { type: 'object', additionalProperties: false, properties: { boot: duration, step: duration, scenario: duration } },
    nodes: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: '^[a-z][a-z0-9-]{0,30}$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['address', 'config'],
        properties: {
          address: { type: 'string' },
          config: { type: 'string', description: 'a file in the scenario folder: #cloud-config or Ignition JSON' },
          ...machine,
          ports: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 65535 } },
        },
      },
    },
    steps: { type: 'array', minItems: 1, items: { $ref: '#/$defs/step' } },
  },
  $defs: {
    step: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: { type: 'string' },
        note: { type: 'string' },
        requires: { type: 'array', items: { type: 'string', pattern: `^container:${containerRef}$` }, description: 'container images the step pulls from the registry mirror (container:rancher/os:v1.5.7); when one is not imported the step alone is skipped, with the import command' },
        checkpoint: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,40}$' },
        on: { oneOf: [nodeRef, { type: 'array', items: nodeRef }] },
        run: { type: 'string' },
        http: {
          type: 'object',
          additionalProperties: false,
          required: ['url'],
          properties: { url: { type: 'string' }, from: nodeRef, status: { type: 'integer', minimum: 100, maximum: 599 }, body: matchers },
        },
        partition: { type: 'array', items: { type: 'array', items: nodeRef } },
        heal: { type: 'boolean' },
        ...Object.fromEntries(NODE_ACTIONS.map((a) => [a, nodeRef])),
        expect: {
          type: 'object',
          additionalProperties: false,
          properties: {
            exit: { oneOf: [{ type: 'integer', minimum: 0, maximum: 255 }, { enum: ['any', 'nonzero'] }] },
            stdout: matchers,
            stderr: matchers,
            table: { oneOf: [tableCheck, { type: 'array', items: tableCheck }] },
          },
        },
        until,
        timeout: duration,
        capture: {
          type: 'object',
          propertyNames: { pattern: '^[a-z][a-z0-9_]*$' },
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            properties: {
              stdout: { type: 'string', description: 'a regex with a (group): the group is captured' },
              table: { type: 'object', additionalProperties: false, required: ['column'], properties: { where, column: { type: 'string' } } },
            },
          },
        },
      },
    },
  },
} as const;

type WithProps = { properties: Record<string, unknown> };

/** The keys a mapping of the schema allows, in the schema's order. */
export function keysOf(node: WithProps): string[] {
  return Object.keys(node.properties);
}

const S = SCENARIO_SCHEMA;
/** The key lists the loader checks mappings against, all taken from the schema. */
export const KEYS = {
  top: keysOf(S),
  network: keysOf(S.properties.network),
  discovery: keysOf(S.properties.discovery),
  registry: keysOf(S.properties.registry),
  rancher: keysOf(S.properties.rancher),
  defaults: keysOf(S.properties.defaults),
  timeouts: keysOf(S.properties.timeouts),
  node: keysOf(S.properties.nodes.additionalProperties),
  step: keysOf(S.$defs.step),
  http: keysOf(S.$defs.step.properties.http),
  expect: keysOf(S.$defs.step.properties.expect),
  table: keysOf(tableCheck),
  matcher: keysOf(matcher.oneOf[1]),
  until: keysOf(until),
  capture: keysOf(S.$defs.step.properties.capture.additionalProperties),
  captureTable: keysOf(S.$defs.step.properties.capture.additionalProperties.properties.table),
} as const;

/** The actions a step may have, exactly one each. */
export const STEP_KINDS = ['run', 'http', 'partition', 'heal', ...NODE_ACTIONS];

/** The bounds the loader enforces, from the schema (memory and cpus), plus durations. */
export const BOUNDS = {
  memory: { min: S.properties.defaults.properties.memory.minimum, max: S.properties.defaults.properties.memory.maximum },
  cpus: { min: S.properties.defaults.properties.cpus.minimum, max: S.properties.defaults.properties.cpus.maximum },
  port: { min: 1, max: 65535 },
  /** Durations: at least 1 s (100 ms for an until interval), at most 48 h (setTimeout's limit is ~24.8 days). */
  durationMs: { min: 1000, max: 48 * 3_600_000 },
  intervalMs: { min: 100, max: 3_600_000 },
  nameLength: 63,
} as const;

/** A container image reference the lab can seed (repo:tag), as the schema says. */
export const CONTAINER_REF = new RegExp(`^${containerRef}$`);
