// A container's name: 12 random hex digits, as docker's short ids.

/** "3f4e8c2a91b0". (Math.random: node:crypto costs 6 ms to load, and this is no secret.) */
export function newContainerId(): string {
  return Math.floor(Math.random() * 2 ** 48)
    .toString(16)
    .padStart(12, '0');
}
