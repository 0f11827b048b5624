import { isScalar, isMap, type Node } from 'yaml';
import { YamlSource, closest, type Problem } from '../scenario/yamlsource.js';
import { render } from '../util/template.js';
import { shownPath } from '../util/paths.js';
import type { CatalogEntry, ConfigAgent } from '../images/catalog.js';
import { isIgnition } from './ignition.js';
import { lintIgnition } from './ignitionlint.js';

/** Top-level keys of a cloud-config that labos understands: cloud-init 22.4's, plus coreos. */
const CLOUD_INIT_KEYS = [
  'apt', 'bootcmd', 'ca_certs', 'ca-certs', 'chpasswd', 'cloud_config_modules', 'cloud_final_modules', 'cloud_init_modules',
  'coreos', 'datasource', 'device_aliases', 'disable_ec2_metadata', 'disable_root', 'disk_setup', 'final_message', 'fqdn',
  'fs_setup', 'groups', 'growpart', 'hostname', 'keyboard', 'locale', 'locale_configfile', 'manage_etc_hosts',
  'manage_resolv_conf', 'merge_how', 'merge_type', 'mounts', 'mount_default_fields', 'network', 'ntp', 'output',
  'package_reboot_if_required', 'package_update', 'package_upgrade', 'packages', 'password', 'phone_home', 'power_state',
  'prefer_fqdn_over_hostname', 'preserve_hostname', 'random_seed', 'resize_rootfs', 'resolv_conf', 'rsyslog', 'runcmd',
  'seed_random', 'ssh_authorized_keys', 'ssh_deletekeys', 'ssh_genkeytypes', 'ssh_keys', 'ssh_pwauth', 'ssh_quiet_keygen',
  'swap', 'system_info', 'timezone', 'user', 'users', 'write_files',
];
/** What the coreos: key takes (coreos-cloudinit's, as labos's cloud-init module and Flatcar read it). */
const COREOS_KEYS = ['etcd', 'etcd2', 'fleet', 'flannel', 'locksmith', 'units', 'update', 'oem'];
/** Top-level keys Flatcar's coreos-cloudinit reads. */
const COREOS_CLOUDINIT_KEYS = ['coreos', 'hostname', 'manage_etc_hosts', 'ssh_authorized_keys', 'users', 'write_files'];
/** Top-level keys RancherOS's cloud-init reads (its own settings live under rancher:). */
const RANCHEROS_KEYS = ['hostname', 'mounts', 'rancher', 'runcmd', 'ssh_authorized_keys', 'write_files'];
const AGENT_KEYS: Record<ConfigAgent, string[]> = { 'cloud-init': CLOUD_INIT_KEYS, 'coreos-cloudinit': COREOS_CLOUDINIT_KEYS, rancheros: RANCHEROS_KEYS };
const UNIT_KEYS = ['name', 'content', 'command', 'enable', 'runtime', 'mask', 'drop-ins', 'drop_ins'];

/**
 * Checks a node's cloud-config without booting: the #cloud-config header, YAML validity (after
 * the lab's {{placeholders}} are filled with sample values), and the keys the image's agent reads
 * (labos's cloud-init when no image is given). An image that reads Ignition may get a JSON config,
 * checked by ignitionlint.ts (for labos: also what its translation from spec 2.x cannot carry over).
 */
export function lintNodeConfig(file: string, text: string, sampleVars: Record<string, string>, image?: CatalogEntry): Problem[] {
  const shown = shownPath(file);
  const problems: Problem[] = [];
  if (image?.config.includes('ignition-fw_cfg') && isIgnition(text)) return lintIgnition(shown, render(text, sampleVars), image);
  const agent = image?.agent ?? 'cloud-init';
  if (!text.startsWith('#cloud-config')) {
    problems.push({ file: shown, line: 1, column: 1, message: 'a node config must start with the line "#cloud-config"', fix: 'add "#cloud-config" as its first line (cloud-init ignores user data without it)' });
  }
  const src = new YamlSource(shown, render(text, sampleVars));
  if (src.problems.length === 0) {
    if (!isMap(src.root)) {
      src.problem(src.root, 'a cloud-config must be a mapping of keys (hostname:, write_files:, coreos:, ...)');
    } else {
      const top = src.map(src.root, agent === 'cloud-init' ? 'the cloud-config' : `the cloud-config (${image!.name} reads it with ${agent})`, AGENT_KEYS[agent]);
      const coreos = top.get('coreos')?.value;
      if (coreos) {
        const c = src.map(coreos, 'coreos', COREOS_KEYS);
        const units = c.get('units')?.value;
        if (units) for (const u of src.seq(units, 'coreos.units')) checkUnit(src, u);
      }
    }
  }
  return [...problems, ...src.problems.map((p) => ({ ...p, file: shown }))];
}

function checkUnit(src: YamlSource, unit: Node): void {
  const u = src.map(unit, 'a coreos unit', UNIT_KEYS);
  if (!u.has('name')) src.problem(unit, 'a coreos unit needs a name', 'e.g. name: etcd2.service');
  const cmd = u.get('command')?.value;
  const commands = ['start', 'stop', 'restart', 'reload', 'try-restart', 'reload-or-restart', 'reload-or-try-restart'];
  if (cmd && (!isScalar(cmd) || !commands.includes(String(cmd.value)))) {
    const near = isScalar(cmd) ? closest(String(cmd.value), commands) : undefined;
    src.problem(cmd, `unknown unit command "${isScalar(cmd) ? cmd.value : '?'}"`, near ? `did you mean "${near}"?` : `use one of: ${commands.join(', ')}`);
  }
}
