// An image in a registry is three kinds of JSON and blobs:
//   - the manifest (GET /v2/<name>/manifests/<tag or digest>): the digests and sizes of
//     the config and of the layers, bottom first;
//   - or an index (OCI) / manifest list (Docker): one manifest per platform, to choose from;
//   - the config (a blob): the command, environment, user... and the layers' diff IDs;
//   - the layers (blobs): tar archives, each the changes to the layers below it.
// Which formats we read goes in the Accept header: without it, a registry down-converts
// to schema 1, docker's format before 2017 (unsigned digests, no config blob), refused here.
import { createHash } from 'node:crypto';
import type { Reference } from '../reference.ts';
import { type Registry, RegistryError, readLimited } from './http.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const ACCEPT = [OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_LIST].join(', ');

/** What points at a blob or a manifest: its digest, size and media type. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
}

interface Manifest {
  digest: string; // of the manifest itself, as fetched (its bytes' sha256)
  config: Descriptor;
  layers: Descriptor[]; // bottom first
}

const LAYER_TYPES = new Set([
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
]);
const MAX_MANIFEST = 4 * 1024 * 1024; // the distribution registry's own limit

/** This machine's platform, as image indexes name them. */
function thisPlatform(): { architecture: string; variant?: string } {
  if (process.arch === 'arm64') return { architecture: 'arm64', variant: 'v8' };
  if (process.arch === 'arm') return { architecture: 'arm', variant: 'v7' };
  return { architecture: process.arch === 'x64' ? 'amd64' : process.arch };
}

/** The manifest of `reference` for this machine's platform (through its index if it has one). */
export async function fetchManifest(registry: Registry, reference: Reference): Promise<Manifest> {
  const first = await fetchJson(registry, reference.repository, reference.digest ?? reference.tag!, reference.digest);
  if (first.mediaType !== OCI_INDEX && first.mediaType !== DOCKER_LIST) return checked(first.json, first.digest);
  const wanted = thisPlatform();
  const manifests = (first.json.manifests ?? []) as Descriptor[];
  const fits = manifests.filter(({ platform: p }) => p?.os === 'linux' && p.architecture === wanted.architecture);
  // arm64 images name their variant (v8) or none
  const chosen = fits.find(({ platform: p }) => (p?.variant ?? wanted.variant) === wanted.variant) ?? fits[0];
  if (!chosen) {
    const there = manifests.map(({ platform: p }) => `${p?.os}/${p?.architecture}${p?.variant ? `/${p.variant}` : ''}`);
    throw new RegistryError(`${reference.canonical} has no linux/${wanted.architecture} image (only ${there.join(', ') || 'none'})`);
  }
  const second = await fetchJson(registry, reference.repository, chosen.digest, chosen.digest);
  if (second.mediaType === OCI_INDEX || second.mediaType === DOCKER_LIST) throw new RegistryError(`${chosen.digest}: an index in an index`);
  return checked(second.json, second.digest);
}

/** A manifest or index: its JSON, media type and digest (checked against `expected`). */
async function fetchJson(registry: Registry, repository: string, tagOrDigest: string, expected: string | undefined) {
  const response = await registry.get(`${repository}/manifests/${tagOrDigest}`, { accept: ACCEPT });
  if (response.status === 404) throw new RegistryError(`${repository}:${tagOrDigest}: no such image in the registry (404)`);
  if (!response.ok) throw new RegistryError(`${repository}/manifests/${tagOrDigest}: ${response.status} ${response.statusText}`);
  const bytes = await readLimited(response, MAX_MANIFEST, `${repository}/manifests/${tagOrDigest}`);
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (expected && digest !== expected) throw new RegistryError(`manifest ${expected}: its bytes have the digest ${digest}`);
  let json: Record<string, unknown> & { mediaType?: string; schemaVersion?: number; manifests?: unknown };
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new RegistryError(`${repository}/manifests/${tagOrDigest}: not JSON`);
  }
  const mediaType = json.mediaType ?? response.headers.get('content-type')?.split(';')[0]?.trim() ?? '';
  if (json.schemaVersion === 1 || mediaType.startsWith('application/vnd.docker.distribution.manifest.v1')) {
    throw new RegistryError(
      `${repository}:${tagOrDigest} has a schema 1 manifest (docker's format before 2017), which this runtime does not read`,
    );
  }
  return { json, mediaType, digest };
}

function checked(json: Record<string, unknown>, digest: string): Manifest {
  const { config, layers } = json as { config?: Descriptor; layers?: Descriptor[] };
  const isDescriptor = (d: Descriptor | undefined) =>
    d && /^sha256:[0-9a-f]{64}$/.test(d.digest) && Number.isSafeInteger(d.size) && d.size >= 0;
  if (!isDescriptor(config) || !Array.isArray(layers) || !layers.every(isDescriptor)) {
    throw new RegistryError(`manifest ${digest}: no config or layers that read as sha256 digests and sizes`);
  }
  const odd = layers.find(({ mediaType }) => !LAYER_TYPES.has(mediaType));
  if (odd) throw new RegistryError(`layer ${odd.digest}: of type ${odd.mediaType}, which this runtime does not unpack`);
  return { digest, config: config!, layers };
}
