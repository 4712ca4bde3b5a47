// The DNAT rules of a container's published ports go when its runtime ends: nft echoed
// each rule it added with its handle ("... # handle 7"), the one name a rule has, and
// `delete rule ... handle 7` removes it. A runtime killed with SIGKILL cannot: its
// lease says so, and npm run clean removes its rules (shared/network-cleanup.ts).
import { atExit } from './exit.ts';
import type { Lease } from './leases.ts';
import { nft, TABLE } from './nft.ts';

/** As this process ends, remove the rules in `echoed` (nft --echo --handle's output), then clear the lease's mark. */
export function removeRulesAtExit(echoed: string, lease: Lease): void {
  const handles = [...echoed.matchAll(/ # handle (\d+)$/gm)].map(([, handle]) => handle);
  atExit(() => {
    try {
      nft(handles.map((handle) => `delete rule ip ${TABLE} published handle ${handle}`).join('\n'));
      lease.clearPublished();
    } catch {
      // nothing to say as we end: npm run clean removes them
    }
  });
}
