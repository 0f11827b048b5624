import { join } from 'node:path';

/** Bumped when what a checkpoint holds, or how it is restored, changes. */
export const FORMAT = 1;

/** What a checkpoint's key is made of; a changed component names the reason a run goes cold. */
export type Inputs = Record<string, string>;

export const META_FILE = 'checkpoint.json';

/** Every file and folder of a checkpoint, by what it holds: the one place their names are written. */
export function layout(dir: string) {
  return {
    dir,
    meta: join(dir, META_FILE),
    /** The lab's SSH key (and .pub beside it). */
    key: join(dir, 'id_ed25519'),
    keyPub: join(dir, 'id_ed25519.pub'),
    /** The discovery etcd's data dir and the registry's storage, copied while frozen. */
    discovery: join(dir, 'discovery'),
    registry: join(dir, 'registry'),
    /** The read-only artifacts drive every node had. */
    artifactsIso: join(dir, 'artifacts.iso'),
    node(name: string) {
      const d = join(dir, 'nodes', name);
      return {
        dir: d,
        /** The config drive, or the Ignition config given by fw_cfg. */
        configIso: join(d, 'config.iso'),
        ignition: join(d, 'ignition.json'),
        /** The zstd migration stream of a running node, and its disk. */
        state: join(d, 'state.zst'),
        disk: join(d, 'disk.qcow2'),
      };
    },
  };
}

export type Layout = ReturnType<typeof layout>;
