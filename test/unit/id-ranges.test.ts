// Where the host IDs of the containers' roots start (shared/userns/id-ranges.ts).
import { describe, expect, it } from 'vitest';
import { rangeStart } from '../../shared/userns/id-ranges.ts';

describe('ID ranges', () => {
  it('our own default, far above any user, when /etc/subuid names no range for us', () => {
    expect(rangeStart('/etc/subuid', '')).toBe(1_000_000_000);
    expect(rangeStart('/etc/subuid', 'alice:100000:65536\n')).toBe(1_000_000_000);
  });

  it("/etc/subuid's line for container-from-scratch, when it has one", () => {
    expect(rangeStart('/etc/subuid', 'alice:100000:65536\ncontainer-from-scratch:200000000:67108864\n')).toBe(200_000_000);
  });

  it('a line too short for 1024 ranges of 65536: one line that says so', () => {
    expect(() => rangeStart('/etc/subuid', 'container-from-scratch:100000:65536')).toThrow(
      '/etc/subuid: container-from-scratch:100000:65536: we need 67108864 IDs (container-from-scratch:START:67108864)',
    );
  });
});
