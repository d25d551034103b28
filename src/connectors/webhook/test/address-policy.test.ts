import { describe, expect, it } from 'vitest';
import { type AddressClass, classifyAddress, refusedClass } from '../address-policy.js';

const NON_PUBLIC: [string, AddressClass][] = [
  ['10.1.2.3', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.254', 'private'],
  ['192.168.1.10', 'private'],
  ['fc00::1', 'private'],
  ['fd12:3456::1', 'private'],
  ['127.0.0.1', 'loopback'],
  ['127.255.0.9', 'loopback'],
  ['::1', 'loopback'],
  ['169.254.10.20', 'link-local'],
  ['fe80::1', 'link-local'],
  ['0.0.0.0', 'unspecified'],
  ['::', 'unspecified'],
  ['100.64.0.1', 'cgnat'],
  ['100.127.255.254', 'cgnat'],
  ['169.254.169.254', 'metadata'],
  ['fd00:ec2::254', 'metadata'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::ffff:10.0.0.1', 'private'],
  ['::ffff:169.254.169.254', 'metadata'],
  ['224.0.0.1', 'multicast'],
  ['255.255.255.255', 'reserved'],
  ['::127.0.0.1', 'reserved'],
  ['64:ff9b::a00:1', 'reserved'],
];

const PUBLIC = [
  '93.184.216.34',
  '8.8.8.8',
  '172.32.0.1',
  '100.128.0.1',
  '2606:4700:4700::1111',
  '::ffff:8.8.8.8',
];

describe('the webhook address policy', () => {
  it.each(NON_PUBLIC)('classifies %s as %s and refuses it by default', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
    expect(refusedClass(address, { allowPrivateNetwork: false })).toBe(expected);
  });

  it.each(NON_PUBLIC.filter(([, c]) => c !== 'metadata'))(
    'allows %s (%s) when the integration allows private networks',
    (address) => {
      expect(refusedClass(address, { allowPrivateNetwork: true })).toBeNull();
    },
  );

  it('refuses cloud metadata addresses even when private networks are allowed', () => {
    for (const address of ['169.254.169.254', 'fd00:ec2::254', '::ffff:169.254.169.254']) {
      expect(refusedClass(address, { allowPrivateNetwork: true })).toBe('metadata');
    }
  });

  it.each(PUBLIC)('allows the public address %s', (address) => {
    expect(refusedClass(address, { allowPrivateNetwork: false })).toBeNull();
  });

  it('rejects a string that is not an IP address', () => {
    expect(() => classifyAddress('example.com')).toThrow(/not an IP address: example.com/);
  });
});
