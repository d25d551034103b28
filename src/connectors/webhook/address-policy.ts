import { BlockList, isIP } from 'node:net';

/**
 * Which IP addresses a webhook may be delivered to (the SSRF guard's table). A webhook URL is
 * typed by an admin, so without this table crm-sync could be made to POST into the network it
 * runs in: a database's admin port, a cloud metadata service, another tenant's sidecar.
 */
export type AddressClass =
  | 'metadata'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'cgnat'
  | 'multicast'
  | 'reserved';

interface Range {
  class: AddressClass;
  network: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/**
 * First match wins, so the specific ranges come before the ranges that contain them (the
 * metadata address is link-local too). IPv4 ranges also match IPv4-mapped IPv6 addresses
 * (`::ffff:127.0.0.1`): node's BlockList compares those as IPv4.
 */
export const ADDRESS_RANGES: readonly Range[] = [
  // AWS, GCP, Azure, OpenStack instance metadata; AWS's IPv6 endpoint; Alibaba Cloud's.
  { class: 'metadata', network: '169.254.169.254', prefix: 32, family: 'ipv4' },
  { class: 'metadata', network: 'fd00:ec2::254', prefix: 128, family: 'ipv6' },
  { class: 'metadata', network: '100.100.100.200', prefix: 32, family: 'ipv4' },
  { class: 'unspecified', network: '0.0.0.0', prefix: 8, family: 'ipv4' },
  { class: 'unspecified', network: '::', prefix: 128, family: 'ipv6' },
  { class: 'loopback', network: '127.0.0.0', prefix: 8, family: 'ipv4' },
  { class: 'loopback', network: '::1', prefix: 128, family: 'ipv6' },
  { class: 'private', network: '10.0.0.0', prefix: 8, family: 'ipv4' },
  { class: 'private', network: '172.16.0.0', prefix: 12, family: 'ipv4' },
  { class: 'private', network: '192.168.0.0', prefix: 16, family: 'ipv4' },
  { class: 'private', network: 'fc00::', prefix: 7, family: 'ipv6' },
  { class: 'link-local', network: '169.254.0.0', prefix: 16, family: 'ipv4' },
  { class: 'link-local', network: 'fe80::', prefix: 10, family: 'ipv6' },
  { class: 'cgnat', network: '100.64.0.0', prefix: 10, family: 'ipv4' },
  { class: 'multicast', network: '224.0.0.0', prefix: 4, family: 'ipv4' },
  { class: 'multicast', network: 'ff00::', prefix: 8, family: 'ipv6' },
  // 240/4 includes the broadcast address; ::/96 is the deprecated IPv4-compatible form, which
  // some stacks still route to the embedded IPv4 address.
  { class: 'reserved', network: '240.0.0.0', prefix: 4, family: 'ipv4' },
  { class: 'reserved', network: '::', prefix: 96, family: 'ipv6' },
  // NAT64 (RFC 6052) reaches any IPv4 address, private ones included, through a gateway.
  { class: 'reserved', network: '64:ff9b::', prefix: 96, family: 'ipv6' },
  { class: 'reserved', network: '64:ff9b:1::', prefix: 48, family: 'ipv6' },
];

const lists = ADDRESS_RANGES.map((range) => {
  const list = new BlockList();
  list.addSubnet(range.network, range.prefix, range.family);
  return { range, list };
});

/** The class of a non-public address, or null for a public one. Throws for a non-IP string. */
export function classifyAddress(address: string): AddressClass | null {
  const family = isIP(address);
  if (family === 0) throw new TypeError(`not an IP address: ${address}`);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const { range, list } of lists) {
    if (list.check(address, type)) return range.class;
  }
  return null;
}

export interface AddressPolicy {
  allowPrivateNetwork: boolean;
}

/**
 * Why delivering to `address` is refused, or null when it is allowed. `allowPrivateNetwork`
 * opens every class except cloud metadata, which no webhook receiver legitimately lives at.
 */
export function refusedClass(address: string, policy: AddressPolicy): AddressClass | null {
  const found = classifyAddress(address);
  if (found === null) return null;
  if (policy.allowPrivateNetwork && found !== 'metadata') return null;
  return found;
}

export const ADDRESS_CLASS_LABELS: Record<AddressClass, string> = {
  metadata: 'a cloud metadata address',
  unspecified: 'an unspecified address (0.0.0.0/8, ::)',
  loopback: 'a loopback address (127.0.0.0/8, ::1)',
  private: 'a private address (10/8, 172.16/12, 192.168/16, fc00::/7)',
  'link-local': 'a link-local address (169.254/16, fe80::/10)',
  cgnat: 'a carrier-grade NAT address (100.64/10)',
  multicast: 'a multicast address',
  reserved: 'a reserved or translated address (240/4, ::/96, NAT64)',
};
