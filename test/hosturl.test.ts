import test from 'ava';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostUrlLintProblem, hostUrlProblem, publishedHostPorts } from '../lab/run/hosturl.js';
import { runStep, type StepTarget } from '../lab/run/steps.js';
import type { HttpStep } from '../lab/scenario/model.js';

test('hostUrlProblem: only 127.0.0.1 on a published port', (t) => {
  t.is(hostUrlProblem('http://127.0.0.1:8080/x?y=1', [8080]), undefined);
  t.is(hostUrlProblem('http://127.0.0.1/', [80]), undefined);
  const refused: Array<[string, RegExp]> = [
    ['http://169.254.169.254/latest/meta-data/', /may not reach 169\.254\.169\.254/],
    ['http://127.0.0.1:9999/', /port 9999 of 127\.0\.0\.1 was not published by the lab \(it published 8080\)/],
    ['http://127.0.0.1/', /port 80 of/],
    ['http://localhost:8080/', /may not reach localhost/],
    ['http://[::1]:8080/', /may not reach \[::1\]/],
    ['http://10.0.2.100:2379/', /may not reach 10\.0\.2\.100/],
    ['http://example.invalid:8080/', /may not reach example\.invalid/],
    ['http://127.0.0.1.nip.example:8080/', /may not reach/],
    ['file:///etc/passwd', /file: URLs cannot be fetched/],
    ['ftp://127.0.0.1:8080/', /ftp: URLs/],
    ['not a url', /is not a URL/],
    ['http://127.0.0.2:8080/', /may not reach 127\.0\.0\.2/],
  ];
  for (const [url, re] of refused) {
    const p = hostUrlProblem(url, [8080]);
    t.truthy(p, url);
    t.regex(p!.message, re, url);
    t.regex(p!.fix, /ports:/);
  }
  t.regex(hostUrlProblem('http://127.0.0.1:8080/', [])!.message, /it published none/);
});

test('publishedHostPorts reads the lab\'s port variables only', (t) => {
  t.deepEqual(publishedHostPorts({ 'nodes.web.ports.80': '127.0.0.1:41234', 'nodes.db.ports.5432': '127.0.0.1:41235', 'nodes.web.address': '192.168.0.10', port: '127.0.0.1:22' }), [41234, 41235]);
});

test('hostUrlLintProblem: a port variable passes, a variable host or a literal address does not', (t) => {
  const ports = ['nodes.web.ports.80'];
  t.is(hostUrlLintProblem('http://{{nodes.web.ports.80}}/status/{{token}}', ports), undefined);
  t.regex(hostUrlLintProblem('http://{{nodes.web.address}}/', ports)!.message, /may not reach x \("http:\/\/\{\{nodes\.web\.address\}\}\/"\)/);
  t.regex(hostUrlLintProblem('http://{{nodes.web.ports.81}}/', ports)!.message, /may not reach x/);
  t.regex(hostUrlLintProblem('http://169.254.169.254/', ports)!.message, /169\.254\.169\.254/);
  t.regex(hostUrlLintProblem('http://127.0.0.1:8080/', ports)!.message, /port 8080 .*not published/);
});

function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number }> {
  const server = createServer(handler!);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port })));
}

const noTarget = {} as StepTarget;
const step = (url: string, extra: Partial<HttpStep> = {}): HttpStep => ({ kind: 'http', index: 0, name: 'get', line: 1, node: 'host', url, status: 200, body: [], timeoutMs: 5000, ...extra });

test('an http step from the host: a published port is fetched; an unpublished one, or a redirect to one, is refused without a request', async (t) => {
  let secretHits = 0;
  const secret = await listen((_, res) => { secretHits++; res.end('secret'); });
  const web = await listen((req, res) => {
    if (req.url === '/away') { res.writeHead(302, { location: `http://127.0.0.1:${secret.port}/` }); res.end(); return; }
    if (req.url === '/meta') { res.writeHead(301, { location: 'http://169.254.169.254/' }); res.end(); return; }
    if (req.url === '/hop') { res.writeHead(302, { location: '/ok' }); res.end(); return; }
    res.end('hello');
  });
  try {
    const vars = { 'nodes.web.ports.80': `127.0.0.1:${web.port}` };
    const ok = await runStep(step('http://{{nodes.web.ports.80}}/', { body: [{ contains: 'hello' }] as HttpStep['body'] }), noTarget, vars);
    t.is(ok.status, 'passed', ok.message ?? ok.failures?.join('; '));
    const hop = await runStep(step('http://{{nodes.web.ports.80}}/hop'), noTarget, vars);
    t.is(hop.status, 'passed', hop.failures?.join('; '));
    const direct = await runStep(step(`http://127.0.0.1:${secret.port}/`, { until: { timeoutMs: 60_000, intervalMs: 1000 } }), noTarget, vars);
    t.is(direct.status, 'failed');
    t.regex(direct.message!, new RegExp(`port ${secret.port} of 127\\.0\\.0\\.1 was not published by the lab[^]*fix: `));
    const meta = await runStep(step('http://169.254.169.254/'), noTarget, vars);
    t.is(meta.status, 'failed');
    t.regex(meta.message!, /may not reach 169\.254\.169\.254/);
    const away = await runStep(step('http://{{nodes.web.ports.80}}/away'), noTarget, vars);
    t.is(away.status, 'failed');
    // Stop here when redirects are followed unchecked: the next one would go to 169.254.169.254.
    if (!t.regex(away.failures?.join('\n') ?? '', new RegExp(`redirected to http://127\\.0\\.0\\.1:${secret.port}/: port ${secret.port} .*not published`))) return;
    const away2 = await runStep(step('http://{{nodes.web.ports.80}}/meta'), noTarget, vars);
    t.regex(away2.failures!.join('\n'), /redirected to http:\/\/169\.254\.169\.254\/: an http step from the host may not reach/);
    t.is(secretHits, 0);
  } finally {
    web.server.close();
    secret.server.close();
  }
});
