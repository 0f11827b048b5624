import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import getPort from 'get-port';
import { Daemon, frozen } from './proc.js';
import { LabError } from '../util/errors.js';
import { requireTools } from './tools.js';
import { NotYet, waitUntil } from '../util/poll.js';
import { indent } from '../util/text.js';
import { HOST_SERVICES_ADDR, type GuestForward } from './switch.js';

/** One manifest or blob read in the registry's access log, e.g. part of a guest's `docker pull`. */
export interface RegistryPull {
  method: string;
  repo: string;
  kind: 'manifests' | 'blobs';
  /** A tag or a digest. */
  ref: string;
  status: number;
  userAgent: string;
}

/**
 * The lab's offline registry mirror: Debian's docker-registry (distribution 2.x) on 127.0.0.1 only,
 * storage and log in the lab folder, seeded with images the lab built. Guests' dockerd use it as
 * "registry-mirrors": ["http://10.0.2.100:5000"], so `docker pull nginx` is served from here.
 */
export class Registry {
  static readonly GUEST_PORT = 5000;

  private constructor(
    private daemon: Daemon,
    readonly port: number,
    readonly logFile: string,
  ) {}

  /** Starts it; with `from`, on a copy of a checkpoint's storage (already seeded). */
  static async start(labDir: string, from?: string): Promise<Registry> {
    requireTools(['docker-registry', 'skopeo'], 'the registry mirror');
    const port = await getPort({ host: '127.0.0.1' });
    const storage = join(labDir, 'registry');
    if (from) cpSync(from, storage, { recursive: true });
    mkdirSync(storage, { recursive: true });
    const configFile = join(labDir, 'registry.yml');
    // JSON is YAML: no auth, no TLS, loopback only; the access log (on stdout) records every pull.
    writeFileSync(configFile, JSON.stringify({
      version: 0.1,
      log: { level: 'info', formatter: 'text', accesslog: { disabled: false }, fields: { service: 'registry' } },
      storage: { filesystem: { rootdirectory: storage }, delete: { enabled: true }, maintenance: { uploadpurging: { enabled: false } } },
      http: { addr: `127.0.0.1:${port}`, secret: randomBytes(16).toString('hex'), headers: { 'X-Content-Type-Options': ['nosniff'] } },
    }, null, 2) + '\n');
    const logFile = join(labDir, 'registry.log');
    const daemon = Daemon.start('docker-registry', ['docker-registry', 'serve', configFile], logFile);
    const registry = new Registry(daemon, port, logFile);
    try {
      await waitUntil('the registry mirror to answer GET /v2/', async () => {
        if (!daemon.running) {
          throw new LabError(`docker-registry exited at once (code ${daemon.exitCode}); last lines of ${logFile}:\n${indent(registry.logTail())}`, {
            fix: 'read the log above; a port taken by another program or an unwritable lab folder are the usual causes',
          });
        }
        const r = await fetch(`${registry.hostUrl}/v2/`).catch((e: Error) => { throw new NotYet(e.message); });
        if (r.status !== 200) throw new NotYet(`HTTP ${r.status}`);
      }, { timeoutMs: 20_000, intervalMs: 100 });
    } catch (err) {
      await daemon.stop();
      throw err;
    }
    return registry;
  }

  /** Base URL as the host sees it. */
  get hostUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Base URL as guests see it (what their dockerd's registry-mirrors names). */
  get guestUrl(): string {
    return `http://${HOST_SERVICES_ADDR}:${Registry.GUEST_PORT}`;
  }

  get forward(): GuestForward {
    return { name: 'registry', guestAddr: HOST_SERVICES_ADDR, guestPort: Registry.GUEST_PORT, hostPort: this.port };
  }

  get running(): boolean {
    return this.daemon.running;
  }

  /** Copies the storage to dest, with the registry stopped (SIGSTOP) meanwhile. */
  snapshotTo(dest: string): void {
    frozen(this.daemon, () => cpSync(join(dirname(this.logFile), 'registry'), dest, { recursive: true }));
  }

  get pid(): number | undefined {
    return this.daemon.pid;
  }

  /**
   * Pushes the image tagged "latest" of an OCI layout as repo:tag, with Docker v2 schema 2 manifests
   * (the Docker 20.10 of the guests asks a mirror for those; Docker <= 19.03 cannot pull OCI-typed ones).
   */
  async seed(ociDir: string, repo = 'library/nginx', tag = 'latest'): Promise<void> {
    if (!existsSync(join(ociDir, 'index.json'))) {
      throw new LabError(`cannot seed the registry with ${ociDir}: it is not an OCI image layout (no index.json)`, {
        fix: 'pass the oci folder a container image build wrote (ensureNginxImage() returns it)',
      });
    }
    const r = await execa('skopeo', [
      '--insecure-policy', 'copy', '--quiet', '--format', 'v2s2', '--dest-tls-verify=false', '--dest-no-creds',
      `oci:${ociDir}:latest`, `docker://127.0.0.1:${this.port}/${repo}:${tag}`,
    ], { reject: false, all: true });
    if (r.exitCode !== 0) {
      throw new LabError(`skopeo could not push ${ociDir} to the registry as ${repo}:${tag} (exit ${r.exitCode}):\n${indent(r.all ?? '')}`, {
        fix: `check the registry log ${this.logFile}, and that the image layout is complete (rebuild it with --force)`,
      });
    }
  }

  /**
   * Manifest and blob reads the registry has served so far (GET, and HEAD of manifests), oldest
   * first, from its access log; the seeding push's own checks (skopeo) are left out.
   */
  pulls(): RegistryPull[] {
    const out: RegistryPull[] = [];
    // Combined log format: 127.0.0.1 - - [date] "GET /v2/REPO/manifests/REF HTTP/1.1" 200 428 "" "docker/20.10.24 ..."
    const re = /"(GET|HEAD) \/v2\/(.+)\/(manifests|blobs)\/([^ "?]+)[^ "]* HTTP\/[\d.]+" (\d{3}) \S+ "[^"]*" "([^"]*)"/;
    for (const line of this.readLog().split('\n')) {
      const m = line.match(re);
      if (!m || m[6].startsWith('skopeo/') || (m[1] === 'HEAD' && m[3] === 'blobs')) continue;
      out.push({ method: m[1], repo: m[2], kind: m[3] as RegistryPull['kind'], ref: decodeURIComponent(m[4]), status: Number(m[5]), userAgent: m[6] });
    }
    return out;
  }

  async stop(): Promise<void> {
    await this.daemon.stop();
  }

  private readLog(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  private logTail(lines = 20): string {
    return this.readLog().trimEnd().split('\n').slice(-lines).join('\n') || '(empty)';
  }
}
