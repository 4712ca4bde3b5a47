// The container's /etc/resolv.conf, as docker writes it: the host's, less what cannot
// work from inside. A nameserver on the host's loopback (systemd-resolved's stub,
// 127.0.0.53; dnsmasq's 127.0.0.1) is the container's own loopback inside, where no
// one answers: those go, and when none is left, public ones take their place.
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Image } from '../image/store.ts';
import { writeFile } from '../kernel/files.ts';
import { fsError } from '../kernel/libc.ts';

const FALLBACK = ['8.8.8.8', '8.8.4.4']; // docker's

/** The resolv.conf for a container, from the host's. */
export function containerResolvConf(host: string): string {
  const lines = host.split('\n').filter((line) => /^(nameserver|search|domain|options)\s/.test(line));
  const loopback = (line: string) => /^nameserver\s+(127\.|::1\s*$)/.test(line);
  const kept = lines.filter((line) => !loopback(line) && !/^nameserver\s+.*:/.test(line)); // no IPv6 on the bridge
  const servers = kept.some((line) => line.startsWith('nameserver')) ? [] : FALLBACK.map((address) => `nameserver ${address}`);
  return `${[...servers, ...kept].join('\n')}\n`;
}

/**
 * upper/etc in the container's writable layer, for its resolv.conf: there, before the
 * overlay is made, the file hides the image's. Not written through the image's /etc: a
 * symlink there (`/etc/resolv.conf -> /etc/passwd`, or /etc itself) would lead root's
 * write anywhere on the host. It is root's, 0755, until the file is in: only then does
 * it become like the image's /etc (likeImageEtc), whose owner could otherwise swap the
 * file for a symlink while root writes it.
 */
function upperEtc(upper: string): string {
  const etc = `${upper}/etc`;
  try {
    mkdirSync(etc, { mode: 0o755 });
  } catch (error) {
    throw fsError(`mkdir ${etc}`, error);
  }
  return etc;
}

/** Give upper/etc the mode and owner of the image's /etc: that of its top layer that has one. */
function likeImageEtc(etc: string, image: Image): void {
  try {
    const found = image.layers.map((layer) => lstatSync(resolve(image.store, layer, 'etc'), { throwIfNoEntry: false })).find(Boolean);
    if (!found?.isDirectory()) return; // none, a symlink or a whiteout: 0755, root's
    chmodSync(etc, found.mode & 0o7777);
    chownSync(etc, found.uid, found.gid);
  } catch (error) {
    throw fsError(`chown ${etc}`, error);
  }
}

/**
 * The container's /etc/resolv.conf, in its writable layer (`upper`) before the overlay is
 * made: written while upper/etc is root's, then given the image's /etc's mode and owner.
 */
export function writeResolvConf(upper: string, image: Image): void {
  const etc = upperEtc(upper);
  writeFile(`${etc}/resolv.conf`, containerResolvConf(readFileSync('/etc/resolv.conf', 'utf8')));
  likeImageEtc(etc, image);
}
