import * as net from 'node:net';

/** KMS_METRICS_ALLOW's default: the loopback addresses. */
export const LOOPBACK_CIDRS = ['127.0.0.0/8', '::1/128'];

/** Checks one `address[/prefix]` entry of KMS_METRICS_ALLOW; returns a problem, or undefined when it is fine. */
export function cidrProblem(entry: string): string | undefined {
  const [address, prefix, extra] = entry.split('/');
  const family = net.isIP(address);
  if (family === 0 || extra !== undefined) return `"${entry}" is not an IP address or CIDR block`;
  if (prefix === undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) return `"${entry}": the prefix length must be 0..${max}`;
  return undefined;
}

/**
 * Whether a caller's address is in the list (CIDR blocks or single addresses, IPv4 or IPv6).
 * An IPv4 client of a dual-stack listener shows as `::ffff:a.b.c.d` and is checked as a.b.c.d.
 */
export function addressFilter(cidrs: readonly string[]): (address: string | undefined) => boolean {
  const list = new net.BlockList();
  for (const entry of cidrs) {
    const [address, prefix] = entry.split('/');
    const type = net.isIP(address) === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return (address) => {
    if (!address) return false;
    const v4 = address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
    const family = net.isIP(v4);
    return family !== 0 && list.check(v4, family === 4 ? 'ipv4' : 'ipv6');
  };
}

/** Who may read an operator endpoint (metrics, readiness): a refusal to answer, or undefined. */
export type OperatorAccess = (port: number | undefined, address: string | undefined) => { status: 403 | 404; error: string } | undefined;

/**
 * With KMS_ADMIN_PORT, only on that port (the API port answers 404); there or on the API port,
 * only callers whose address KMS_METRICS_ALLOW lists (others 403, and learn nothing more).
 */
export function operatorAccess(cfg: { metricsAllow: readonly string[]; admin?: { port: number } }, what: string): OperatorAccess {
  const allowed = addressFilter(cfg.metricsAllow);
  return (port, address) => {
    if (cfg.admin && port !== cfg.admin.port) return { status: 404, error: `${what} is served on the admin port (KMS_ADMIN_PORT)` };
    if (!allowed(address)) return { status: 403, error: `this address may not read ${what} (KMS_METRICS_ALLOW)` };
    return undefined;
  };
}
