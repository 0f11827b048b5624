import type { Scenario, ScenarioNode } from '../scenario/model.js';
import type { CatalogEntry } from '../images/catalog.js';
import type { ResolvedArtifact } from '../images/artifacts.js';
import type { BootSpec } from '../machine/boot.js';
import type { Accel } from '../machine/accel.js';
import type { ImportedContainer } from '../images/containerarchive.js';
import type { NodeAgent } from '../guestconfig/nodeconfig.js';

/** The image a scenario's nodes boot: its catalog entry, how it boots, and who the lab logs in as. */
export interface GuestImage {
  entry: CatalogEntry;
  boot: BootSpec;
  user: string;
  /** A kernel to probe KVM with (the image's own, else labos's when built); none for a disk image alone. */
  probeKernel?: string;
  /** What identifies the image's content (labos: its recipe hash; downloaded: its files' digests), for checkpoint keys. */
  key: string;
}

/** A node as the plan resolved it: what its config tells the lab, decided once (lab/guestconfig/nodeconfig.ts). */
export interface PlannedNode extends ScenarioNode {
  /** Who applies its config in the guest: Ignition for an Ignition JSON, else the image's agent. */
  agent: NodeAgent;
  /** The guest port sshd listens on (the config's sshd.socket ListenStream=, else 22): the lab's SSH forward goes there. */
  guestSshPort: number;
}

/** A scenario checked against the catalog and its node configs linted: what `corelab lint` proves. */
export interface CheckedScenario extends Scenario {
  nodes: PlannedNode[];
  entry: CatalogEntry;
  /** What it requires plus what its image needs for its configs (etcd/fleet on Flatcar). */
  artifactNames: string[];
}

/**
 * Everything a lab is made from, resolved once before anything starts (lab/run/plan.ts): the
 * scenario, its image ready to boot, its artifacts found and digested, and the accelerator.
 */
export interface Plan extends CheckedScenario {
  /** The image ready to boot (plan.image is its catalog name). */
  guest: GuestImage;
  artifacts: ResolvedArtifact[];
  accel: Accel;
  /** The container images steps require that are imported (the registry mirror serves them); steps needing others are skipped. */
  containers?: ImportedContainer[];
}
