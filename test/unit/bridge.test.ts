// Step 12's network, as text and arithmetic: -p's forms, the /16 of the bridge, the
// addresses in it, and the container's resolv.conf.
import { describe, expect, it } from 'vitest';
import { addressAt, freeNetwork, networkOf } from '../../shared/network/bridge.ts';
import { describePort, parsePublish } from '../../shared/network/ports.ts';
import { containerResolvConf } from '../../shared/network/resolv.ts';
import { parseFlags } from '../../shared/runtime/cli.ts';
import { UsageError } from '../../shared/runtime/errors.ts';
import { NETWORK_FLAGS } from '../../shared/runtime/flags.ts';

describe('-p, as docker run reads it', () => {
  it.each([
    ['8080:80', { hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
    ['8080:80/udp', { hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'udp' }],
    ['127.0.0.1:8080:80/tcp', { hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
    ['0.0.0.0:8085:80', { hostIp: '', hostPort: 8085, containerPort: 80, protocol: 'tcp' }], // every address
    ['80', { hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp' }],
    ['53/udp', { hostIp: '', hostPort: 0, containerPort: 53, protocol: 'udp' }],
  ])('%s', (text, mapping) => expect(parsePublish(text)).toEqual(mapping));

  it.each([
    'notaport',
    '70000:80',
    '80:70000',
    '0:80',
    '8080:80/sctp',
    '1.2.3:80:80',
    '300.0.0.1:80:80',
    'a:b:c:d',
    '',
    '80/tcp/udp',
    ':80',
  ])('%j is refused', (text) => expect(parsePublish(text)).toBeUndefined());

  it('repeats, as -p or --publish, and reads as docker ps shows it', () => {
    const { values, command } = parseFlags(['-p', '8080:80', '--publish', '53/udp', '--publish=1.2.3.4:1:2', 'sh'], NETWORK_FLAGS);
    expect(values.publish.map(describePort)).toEqual(['0.0.0.0:8080->80/tcp', '0.0.0.0:0->53/udp', '1.2.3.4:1->2/tcp']);
    expect(command).toEqual(['sh']);
    expect(() => parseFlags(['-p', 'notaport', 'sh'], NETWORK_FLAGS)).toThrow(
      new UsageError(`bad option -p notaport: ${NETWORK_FLAGS.publish.hint}`),
    );
    // a dash word we do not know is refused, as docker run refuses it; `--` ends the options
    expect(() => parseFlags(['-x', 'sh'], NETWORK_FLAGS)).toThrow(new UsageError('unknown option -x'));
    expect(parseFlags(['--', '-x', 'sh'], NETWORK_FLAGS).command).toEqual(['-x', 'sh']);
  });
});

describe("the bridge's network", () => {
  const listing = (...cidrs: string[]) =>
    cidrs.map((cidr, n) => `${n + 1}: if${n}    inet ${cidr} scope global if${n}\\ valid_lft forever`).join('\n');

  it('is 10.201.0.0/16, its gateway .0.1, its first container .0.2, and the 300th 10.201.1.45', () => {
    const network = freeNetwork(listing('127.0.0.1/8', '192.168.1.5/24'));
    expect(network).toEqual({ cidr: '10.201.0.0/16', gateway: '10.201.0.1' });
    expect(addressAt(network, 2)).toBe('10.201.0.2');
    expect(addressAt(network, 301)).toBe('10.201.1.45');
    expect(networkOf('10.201.0.1')).toEqual(network);
  });

  it('moves past what an address of the host overlaps: within it, or a wider network around it', () => {
    expect(freeNetwork(listing('10.201.7.1/24')).cidr).toBe('10.202.0.0/16');
    expect(freeNetwork(listing('10.200.0.1/15', '10.202.0.1/16')).cidr).toBe('10.203.0.0/16'); // 10.200.0.0/15 holds 10.201
    expect(() => freeNetwork(listing('10.0.0.1/8'))).toThrow('every /16');
  });
});

describe("the container's resolv.conf", () => {
  it("keeps the host's nameservers, search and options", () => {
    expect(containerResolvConf('# by dhcp\nnameserver 192.0.2.53\nsearch example.org\noptions ndots:2\n')).toBe(
      'nameserver 192.0.2.53\nsearch example.org\noptions ndots:2\n',
    );
  });

  it("drops a loopback stub (systemd-resolved's 127.0.0.53) and IPv6 ones; public ones when none is left", () => {
    expect(containerResolvConf('nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n')).toBe(
      'nameserver 8.8.8.8\nnameserver 8.8.4.4\noptions edns0 trust-ad\nsearch lan\n',
    );
    expect(containerResolvConf('nameserver ::1\nnameserver fe80::1\nnameserver 192.0.2.1\n')).toBe('nameserver 192.0.2.1\n');
    expect(containerResolvConf('')).toBe('nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  });
});
