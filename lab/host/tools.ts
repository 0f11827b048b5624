import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { LabError } from '../util/errors.js';

/** Host programs the lab runs, and the Debian package each comes from. */
export const HOST_TOOLS = {
  'qemu-system-x86_64': 'qemu-system-x86',
  'qemu-img': 'qemu-utils',
  vde_switch: 'vde2',
  etcd: 'etcd-server',
  etcdctl: 'etcd-client',
  xorriso: 'xorriso',
  socat: 'socat',
  setpriv: 'util-linux',
  mmdebstrap: 'mmdebstrap',
  'mke2fs': 'e2fsprogs',
  sfdisk: 'fdisk',
  'docker-registry': 'docker-registry',
  skopeo: 'skopeo',
  umoci: 'umoci',
  zstd: 'zstd',
} as const;

export type HostTool = keyof typeof HOST_TOOLS;

/** What running a scenario needs; building the labos image needs BUILD_TOOLS as well. */
export const RUN_TOOLS: HostTool[] = ['qemu-system-x86_64', 'qemu-img', 'vde_switch', 'etcd', 'xorriso', 'socat', 'setpriv'];
export const BUILD_TOOLS: HostTool[] = ['mmdebstrap', 'mke2fs', 'sfdisk', 'qemu-img'];

export function which(cmd: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin']);
  for (const dir of dirs) {
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** Throws one error listing every missing tool and the apt command that installs them all. */
export function requireTools(tools: HostTool[], purpose: string): void {
  const missing = tools.filter((t) => !which(t));
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((t) => HOST_TOOLS[t]))];
  throw new LabError(`${purpose} needs host tools that are not installed: ${missing.join(', ')}`, {
    fix: `sudo apt-get install -y ${pkgs.join(' ')}   (or run scripts/setup.sh as root, which installs everything the lab needs)`,
  });
}
