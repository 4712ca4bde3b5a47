// Step 11's choice of a /30 per container (shared/network/subnets.ts).
import { describe, expect, it } from 'vitest';
import { freeSubnet, parseAddresses, SUBNETS, subnet, subnetOf, usersOf } from '../../shared/network/subnets.ts';

const IP_OUTPUT = `1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: eth0    inet 10.200.0.5/30 brd 10.200.0.7 scope global eth0\\       valid_lft forever preferred_lft forever
7: cfs-00000002@if2    inet 10.200.0.9/30 scope global cfs-00000002\\       valid_lft forever preferred_lft forever
`;

describe('subnets', () => {
  it('/30 number n: .1 the host end, .2 the container end', () => {
    expect(subnet(0)).toEqual({ index: 0, host: '10.200.0.1', container: '10.200.0.2' });
    expect(subnet(64)).toMatchObject({ host: '10.200.1.1', container: '10.200.1.2' });
    expect(subnet(SUBNETS - 1)).toMatchObject({ host: '10.200.255.253', container: '10.200.255.254' });
  });

  it('reads `ip -o -4 addr show`', () => {
    expect(parseAddresses(IP_OUTPUT)).toEqual([
      { name: 'lo', address: '127.0.0.1', bits: 8 },
      { name: 'eth0', address: '10.200.0.5', bits: 30 },
      { name: 'cfs-00000002@if2', address: '10.200.0.9', bits: 30 },
    ]);
  });

  it('an interface uses every /30 its network overlaps', () => {
    const wide = [{ name: 'vpn0', address: '10.1.2.3', bits: 8 }];
    expect(usersOf(wide, 0)).toEqual(['vpn0']);
    expect(usersOf(wide, SUBNETS - 1)).toEqual(['vpn0']);
    const narrow = parseAddresses(IP_OUTPUT);
    expect(usersOf(narrow, 0)).toEqual([]);
    expect(usersOf(narrow, 1)).toEqual(['eth0']);
    expect(usersOf(narrow, 2)).toEqual(['cfs-00000002@if2']);
  });

  it("a container's own /30 comes from its id; taken ones are skipped", () => {
    expect(freeSubnet('00000000abcd', []).index).toBe(0);
    expect(freeSubnet('00000001abcd', parseAddresses(IP_OUTPUT)).index).toBe(3);
    expect(freeSubnet('ffffffffabcd', []).index).toBe(0xffffffff % SUBNETS);
  });

  it("a container's /30 from its id alone: its first 8 hex digits, modulo 16384", () => {
    expect(subnetOf('000000050000')).toEqual(subnet(5));
    expect(subnetOf('ffffffff1234')).toEqual(subnet(0xffffffff % SUBNETS));
  });

  it('no free /30 left: one line', () => {
    expect(() => freeSubnet('000000000000', [{ name: 'big', address: '10.0.0.0', bits: 8 }])).toThrow(
      'veth: no free /30 left in 10.200.0.0/16',
    );
  });
});
