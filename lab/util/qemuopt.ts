/**
 * A value for a QEMU option string (-drive, -chardev, -netdev, -qmp, -fw_cfg, -name): QEMU splits
 * those at commas and reads ",," as one literal comma, so a comma in a path or name is doubled
 * here. Without it a path such as "/tmp/a,format=raw" would add keys to the option. Values without
 * a comma come back unchanged (checkpoint migration streams depend on the device arguments).
 */
export function qemuOpt(value: string): string {
  return value.replaceAll(',', ',,');
}
