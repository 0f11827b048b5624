import type { Vars } from '../util/template.js';

/**
 * Where an http step run from the host may go: only to 127.0.0.1 on a port the lab published
 * (a node's `ports:`, reached as {{nodes.NAME.ports.PORT}}). Anything else — another address, a
 * name such as localhost, a port the lab did not publish — is refused, so nothing leaves the machine
 * and no other local service is reached.
 */
export interface HostUrlProblem {
  message: string;
  fix: string;
}

const FIX = 'an http step from the host may only reach a port the lab published: add the guest port to the node\'s "ports:" and use url: "http://{{nodes.NAME.ports.PORT}}/..." (or run the request from a node with "from: NODE")';

/** The problem with fetching url from the host, or undefined when it is a published 127.0.0.1 port. */
export function hostUrlProblem(url: string, publishedPorts: readonly number[]): HostUrlProblem | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { message: `"${url}" is not a URL`, fix: 'give a full URL to a port the lab published: add the guest port to the node\'s "ports:" and use http://{{nodes.NAME.ports.PORT}}/' };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { message: `${u.protocol} URLs cannot be fetched from the host ("${url}")`, fix: FIX };
  if (u.hostname !== '127.0.0.1') return { message: `an http step from the host may not reach ${u.hostname} ("${url}"): only 127.0.0.1 on a port the lab published`, fix: FIX };
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  if (!publishedPorts.includes(port)) {
    const known = publishedPorts.length ? `it published ${publishedPorts.join(', ')}` : 'it published none';
    return { message: `port ${port} of 127.0.0.1 was not published by the lab (${known}) ("${url}")`, fix: FIX };
  }
  return undefined;
}

/** The host ports the lab published, from the {{nodes.NAME.ports.PORT}} variables ("127.0.0.1:HOSTPORT"). */
export function publishedHostPorts(vars: Vars): number[] {
  return Object.entries(vars)
    .filter(([k]) => /^nodes\.[^.]+\.ports\.\d+$/.test(k))
    .map(([, v]) => Number(String(v).match(/^127\.0\.0\.1:(\d+)$/)?.[1]))
    .filter((p) => Number.isInteger(p) && p > 0);
}

/**
 * For lint, before any port is published: the problem with a step's url as written. Each
 * {{nodes.N.ports.P}} of a published port stands for a sample published port; any other {{...}} is
 * taken as unknown text, so a host or port that comes from a variable other than those is refused.
 */
export function hostUrlLintProblem(url: string, portVariables: readonly string[]): HostUrlProblem | undefined {
  const sample = (i: number) => 40000 + i;
  const rendered = url.replace(/\{\{\s*([^{}\s]+)\s*\}\}/g, (_, name: string) => {
    const i = portVariables.indexOf(name);
    return i >= 0 ? `127.0.0.1:${sample(i)}` : 'x';
  });
  const p = hostUrlProblem(rendered, portVariables.map((_, i) => sample(i)));
  return p && { ...p, message: p.message.replace(`("${rendered}")`, `("${url}")`) };
}

/** Redirects followed by a host-side GET, each hop checked like the first. */
const MAX_REDIRECTS = 5;

/**
 * GET url from the host, following redirects by hand so each hop is checked: a guest's server
 * cannot redirect the host anywhere it could not have gone itself. Throws on a refused hop.
 */
export async function guardedFetch(url: string, publishedPorts: readonly number[], timeoutMs: number): Promise<Response> {
  const signal = AbortSignal.timeout(timeoutMs);
  let at = url;
  for (let hop = 0; ; hop++) {
    const problem = hostUrlProblem(at, publishedPorts);
    if (problem) throw new Error(`${hop ? `redirected to ${at}: ` : ''}${problem.message}\n  fix: ${problem.fix}`);
    const res = await fetch(at, { signal, redirect: 'manual' });
    const next = res.headers.get('location');
    if (res.status < 300 || res.status > 399 || !next || hop >= MAX_REDIRECTS) return res;
    await res.body?.cancel();
    at = new URL(next, at).toString();
  }
}

/** Throws, with the fix on its own line, when url may not be fetched from the host. */
export function assertHostUrl(url: string, publishedPorts: readonly number[]): void {
  const problem = hostUrlProblem(url, publishedPorts);
  if (problem) throw new Error(`${problem.message}\n  fix: ${problem.fix}`);
}
