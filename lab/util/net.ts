import { LabError } from './errors.js';

/** Parses "192.168.0.0/24" and checks an address lies inside it (not network or broadcast). */
export function parseSubnet(cidr: string): { base: number; prefix: number } {
  const m = cidr.match(/^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/);
  if (!m || Number(m[2]) > 30) throw new LabError(`"${cidr}" is not an IPv4 subnet like 192.168.0.0/24`);
  const prefix = Number(m[2]);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (ipToInt(m[1]) & mask) >>> 0, prefix };
}

export function inSubnet(addr: string, subnet: { base: number; prefix: number }): boolean {
  const ip = ipToInt(addr);
  const size = 2 ** (32 - subnet.prefix);
  return ip > subnet.base && ip < subnet.base + size - 1;
}

export function ipToInt(addr: string): number {
  const parts = addr.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return NaN;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}
