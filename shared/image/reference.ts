// Image references, by docker's rules:
//   alpine                      docker.io/library/alpine:latest
//   alpine:3.20                 docker.io/library/alpine:3.20
//   me/app@sha256:<64 hex>      docker.io/me/app@sha256:...
//   127.0.0.1:5000/test/app:v1  a registry of its own: the first part has a "." or a
//                               ":", or is "localhost"
// Docker Hub's name is docker.io; its API lives at registry-1.docker.io.

export interface Reference {
  registry: string; // host[:port], as written ("docker.io" for Docker Hub)
  repository: string; // "library/alpine"
  tag: string | undefined; // undefined with a digest and no tag
  digest: string | undefined; // "sha256:<hex>"
  canonical: string; // the full reference, how images are listed and found
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?$/;

/** The reference, or undefined when `text` is not one. */
export function parseReference(text: string): Reference | undefined {
  const at = text.indexOf('@');
  const digest = at === -1 ? undefined : text.slice(at + 1);
  if (digest !== undefined && !DIGEST.test(digest)) return undefined;
  let rest = at === -1 ? text : text.slice(0, at);
  const colon = rest.lastIndexOf(':');
  let tag: string | undefined;
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return undefined;
  }
  const parts = rest.split('/');
  const first = parts[0]!;
  const hasRegistry = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = hasRegistry ? parts.shift()! : 'docker.io';
  if (!HOST.test(registry) || parts.length === 0 || !parts.every((part) => COMPONENT.test(part))) return undefined;
  if (registry === 'docker.io' && parts.length === 1) parts.unshift('library');
  const repository = parts.join('/');
  if (repository.length > 255) return undefined;
  if (tag === undefined && digest === undefined) tag = 'latest';
  const canonical = `${registry}/${repository}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
  return { registry, repository, tag, digest, canonical };
}
