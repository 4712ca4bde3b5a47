// The pure parts of the pull: docker's reference rules, the WWW-Authenticate challenge,
// the tar reader on archives GNU tar writes (ustar, GNU long names, PAX headers), and
// the command an image's config gives.
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { imageCommand } from '../../shared/image/config.ts';
import { parseReference } from '../../shared/image/reference.ts';
import { parseChallenge, tokenOf, tokenUrl } from '../../shared/image/registry/auth.ts';
import { readTar } from '../../shared/image/tar.ts';

describe('image references, by docker’s rules', () => {
  it.each([
    ['alpine', 'docker.io/library/alpine:latest'],
    ['alpine:3.20', 'docker.io/library/alpine:3.20'],
    ['me/app', 'docker.io/me/app:latest'],
    ['localhost/app', 'localhost/app:latest'],
    ['127.0.0.1:5000/test/two-layer:v1', '127.0.0.1:5000/test/two-layer:v1'],
    ['ghcr.io/a/b/c:1.0-rc_1', 'ghcr.io/a/b/c:1.0-rc_1'],
    [`app@sha256:${'a'.repeat(64)}`, `docker.io/library/app@sha256:${'a'.repeat(64)}`],
    [`app:1@sha256:${'b'.repeat(64)}`, `docker.io/library/app:1@sha256:${'b'.repeat(64)}`],
  ])('%s is %s', (text, canonical) => {
    expect(parseReference(text)?.canonical).toBe(canonical);
  });

  it('the registry and the repository apart; a port is not a tag', () => {
    expect(parseReference('127.0.0.1:5000/x')).toMatchObject({ registry: '127.0.0.1:5000', repository: 'x', tag: 'latest' });
    expect(parseReference('docker.io/alpine')).toMatchObject({ registry: 'docker.io', repository: 'library/alpine' });
  });

  it.each(['', 'Alpine', 'a b', 'a,b', 'app@sha256:123', 'app:', 'app:-x', '/app', 'app/', 'a//b', 'a:b:c'])('%j is none', (text) => {
    expect(parseReference(text)).toBeUndefined();
  });
});

describe('the WWW-Authenticate challenge', () => {
  it("Docker Hub's Bearer challenge, and the token URL it gives", () => {
    const challenge = parseChallenge(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
    );
    expect(challenge).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' },
    });
    expect(tokenUrl(challenge).href).toBe(
      'https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Falpine%3Apull',
    );
  });

  it('a scope with commas inside its quotes; Basic; a token under either name', () => {
    expect(parseChallenge('Bearer realm="r",scope="repository:a:pull,push"').params.scope).toBe('repository:a:pull,push');
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({ scheme: 'basic', params: { realm: 'Registry Realm' } });
    expect(tokenOf({ token: 't' })).toBe('t');
    expect(tokenOf({ access_token: 'a' })).toBe('a');
    expect(tokenOf({ token: '' })).toBeUndefined();
    expect(tokenOf('nonsense')).toBeUndefined();
  });
});

describe('the tar reader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfs-tar-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function entries(format: string) {
    const tree = join(dir, `tree-${format}`);
    const long = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(60)}.txt`; // over 100 bytes
    mkdirSync(join(tree, 'd'.repeat(60), 'e'.repeat(60)), { recursive: true });
    writeFileSync(join(tree, long), 'long name\n');
    writeFileSync(join(tree, 'small.txt'), 'x'.repeat(1000));
    symlinkSync(`../${'t'.repeat(120)}`, join(tree, 'link'));
    const archive = join(dir, `${format}.tar`);
    execFileSync('tar', ['--create', `--format=${format}`, '--file', archive, '--directory', tree, '--sort=name', '.']);
    const found = [];
    for await (const entry of readTar(createReadStream(archive))) {
      let body = '';
      for await (const chunk of entry.body) body += chunk.toString();
      found.push({
        name: entry.name.replace(/^\.\//, ''),
        type: entry.type,
        size: entry.size,
        linkname: entry.linkname,
        body: body.slice(0, 10),
      });
    }
    return { found, long };
  }

  it.each(['gnu', 'pax', 'ustar'])('reads what GNU tar writes as %s: long names and link names, sizes, bodies', async (format) => {
    if (format === 'ustar') {
      // ustar has no long link names: tar refuses the 123-byte symlink target
      await expect(entries(format)).rejects.toThrow();
      return;
    }
    const { found, long } = await entries(format);
    expect(found.find((entry) => entry.name === long)).toMatchObject({ type: 'file', size: 10, body: 'long name\n' });
    expect(found.find((entry) => entry.name === 'small.txt')).toMatchObject({ type: 'file', size: 1000, body: 'xxxxxxxxxx' });
    expect(found.find((entry) => entry.name === 'link')).toMatchObject({ type: 'symlink', linkname: `../${'t'.repeat(120)}` });
    expect(found.filter((entry) => entry.type === 'directory').length).toBe(3); // ., d..., d.../e...
  });

  it('refuses what is not tar', async () => {
    writeFileSync(join(dir, 'not.tar'), 'hello'.repeat(200));
    const read = async () => {
      for await (const _ of readTar(createReadStream(join(dir, 'not.tar'))));
    };
    await expect(read()).rejects.toThrow(/not a tar archive/);
  });
});

describe("an image's command, as docker run reads it", () => {
  it.each([
    [{ Entrypoint: ['/bin/app'], Cmd: ['--help'] }, [], ['/bin/app', '--help']],
    [{ Entrypoint: ['/bin/app'], Cmd: ['--help'] }, ['-v'], ['/bin/app', '-v']],
    [{ Cmd: ['sh'] }, [], ['sh']],
    [{ Entrypoint: '/bin/sh -c', Cmd: 'date' }, [], ['/bin/sh -c', 'date']], // a string: a list of one, not its letters
    [{ Entrypoint: null, Cmd: null }, ['true'], ['true']],
  ])('%j, given %j: %j', (config, given, command) => expect(imageCommand(config, given)).toEqual(command));
});
