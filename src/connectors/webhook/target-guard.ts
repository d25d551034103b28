import { promises as dns, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { ConfigError } from '../errors.js';
import { ADDRESS_CLASS_LABELS, type AddressPolicy, refusedClass } from './address-policy.js';

/**
 * The SSRF guard at the network edge. Addresses are checked when the socket connects (as the
 * agent's `lookup`), not only when the integration is saved or tested: a name that resolved to
 * a public address then can resolve to 127.0.0.1 now (DNS rebinding), and the address checked
 * must be the address connected to.
 */

/** Resolves a host name to every address it has; replaceable in tests. */
export type Resolve = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolve: Resolve = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

/** `[::1]` in a URL is `::1` to the socket layer. */
export function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

function refusal(host: string, address: string, policy: AddressPolicy): ConfigError | null {
  const refused = refusedClass(address, policy);
  if (refused === null) return null;
  const how = host === address ? 'is' : `resolves to ${address}, which is`;
  const hint =
    refused === 'metadata'
      ? 'cloud metadata addresses are always refused'
      : 'set allowPrivateNetwork: true in the integration settings to allow private targets';
  return new ConfigError(
    `refusing to deliver to ${host}: it ${how} ${ADDRESS_CLASS_LABELS[refused]}; ${hint}`,
    { code: `SSRF_${refused.toUpperCase().replace('-', '_')}` },
  );
}

/**
 * A URL whose host is an IP literal never goes through `lookup` (node connects to it directly),
 * so it is checked here, before the request is made.
 */
export function literalRefusal(url: URL, policy: AddressPolicy): ConfigError | null {
  const host = bareHost(url.hostname);
  return isIP(host) === 0 ? null : refusal(host, host, policy);
}

function notFound(hostname: string, family: number): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(
    `${hostname} has no ${family ? `IPv${family} ` : ''}address`,
  );
  error.code = 'ENOTFOUND';
  return error;
}

/** Resolves the URL's host now and refuses it if any address is not allowed (for `check()`). */
export async function resolveTarget(
  url: URL,
  policy: AddressPolicy,
  resolve: Resolve = systemResolve,
): Promise<string[]> {
  const host = bareHost(url.hostname);
  const addresses = isIP(host) === 0 ? (await resolve(host)).map((a) => a.address) : [host];
  if (addresses.length === 0) throw notFound(host, 0);
  for (const address of addresses) {
    const refused = refusal(host, address, policy);
    if (refused) throw refused;
  }
  return addresses;
}

/**
 * A `lookup` for http(s) agents that refuses the host when ANY of its addresses is refused:
 * with several A/AAAA records node may try each in turn (happy eyeballs), and one bad record
 * is enough to steer a connection where it must not go.
 */
export function guardedLookup(policy: AddressPolicy, resolve: Resolve = systemResolve): LookupFunction {
  return (hostname: string, options: LookupOptions, callback) => {
    resolve(hostname).then(
      (addresses) => {
        for (const { address } of addresses) {
          const refused = refusal(hostname, address, policy);
          if (refused) return callback(refused, '', 0);
        }
        const wanted =
          options.family === 4 || options.family === 'IPv4'
            ? 4
            : options.family === 6 || options.family === 'IPv6'
              ? 6
              : 0;
        const usable = wanted === 0 ? addresses : addresses.filter((a) => a.family === wanted);
        const first = usable[0];
        if (!first) {
          return callback(notFound(hostname, wanted), '', 0);
        }
        if (options.all) return callback(null, usable);
        return callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}
