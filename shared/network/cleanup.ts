// npm run clean's part for steps 12+: the rules of published ports whose runtime died
// (SIGKILL), and, once no container is left on it, the bridge and the nftables table,
// as docker removes docker0 only when told. Under the network's lock: no runtime
// creates the bridge or leases an address meanwhile.
import { existsSync } from 'node:fs';
import { BRIDGE } from './bridge.ts';
import { restoreForwarding } from './forwarding.ts';
import { ip } from './ip.ts';
import { clearDeadLeases, leasedAddresses, NETWORK_DIR, withNetworkLock } from './leases.ts';
import { interfaceAddress } from './links.ts';
import { nft, TABLE } from './nft.ts';

/** Remove what no running container uses; one line for each thing removed. */
export function removeUnusedNetwork(): string[] {
  // No step 12 ran here (no lock, no bridge): nothing to do, and no need for nft at all.
  if (!existsSync(NETWORK_DIR) && interfaceAddress(BRIDGE) === undefined) return [];
  return withNetworkLock(() => {
    const removed: string[] = [];
    const leased = new Set(leasedAddresses());
    const hasTable = nft(`list tables`).includes(`table ip ${TABLE}\n`);
    // The chain of published ports, once a step 13 has made it (step 12's table has none).
    if (hasTable && nft(`list table ip ${TABLE}`).includes('chain published {')) {
      // "tcp dport 8080 dnat to 10.201.0.2:80 comment "<id>" # handle 7"
      const dead = nft(`list chain ip ${TABLE} published`, ['--handle'])
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => / dnat to [\d.]+:\d+ .*# handle \d+$/.test(line))
        .filter((line) => !leased.has(/ dnat to ([\d.]+):/.exec(line)![1]!));
      if (dead.length > 0)
        nft(dead.map((line) => `delete rule ip ${TABLE} published handle ${/# handle (\d+)$/.exec(line)![1]}`).join('\n'));
      removed.push(...dead.map((line) => `removed the rule ${line.replace(/ # handle \d+$/, '')}`));
    }
    clearDeadLeases();
    if (leased.size > 0) return removed;
    if (interfaceAddress(BRIDGE) !== undefined) {
      ip([`link del ${BRIDGE}`]);
      removed.push(`removed the bridge ${BRIDGE}`);
    }
    if (hasTable) {
      nft(`delete table ip ${TABLE}`);
      removed.push(`removed the nftables table ip ${TABLE}`);
    }
    removed.push(...restoreForwarding());
    return removed;
  });
}
