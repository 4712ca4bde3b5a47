// Step 15's OCI documents (shared/oci/): config.json and the state checked against the
// runtime spec's own schemas (Debian's golang-github-opencontainers-specs-dev), the
// config.json `spec` writes, the features document. The validators are ajv's code for
// the real schemas, compiled here into a cache of the test's own, then read back from it
// by another Node, as a container's start reads them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { features } from '../../shared/oci/features.ts';
import { checkConfig, checkState } from '../../shared/oci/schema.ts';
import { defaultSpec } from '../../shared/oci/spec.ts';
import { RuntimeError } from '../../shared/runtime/errors.ts';
import { ALL_CAPABILITIES } from '../../shared/security/capabilities.ts';

const cacheDir = mkdtempSync(join(tmpdir(), 'oci-schema-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

const config = (changes: object) => ({ ...defaultSpec(), ...changes });
const state = { ociVersion: '1.0.2', id: 'c1', status: 'running', pid: 4242, bundle: '/run/bundle', annotations: { a: 'b' } };

/** The one line a check throws (a RuntimeError), or '' if it passes. */
function failure(check: () => void): string {
  try {
    check();
    return '';
  } catch (error) {
    expect(error).toBeInstanceOf(RuntimeError);
    return (error as Error).message;
  }
}

describe('config.json', () => {
  it("takes spec's default config.json", () => {
    expect(failure(() => checkConfig(defaultSpec(), { cacheDir }))).toBe('');
  });

  it('names the field of the wrong type, in one line', () => {
    const spec = defaultSpec() as { process: object };
    const bad = config({ process: { ...spec.process, args: 'sh' } });
    expect(failure(() => checkConfig(bad, { cacheDir }))).toBe('config.json: /process/args: must be array');
  });

  it('names a missing field', () => {
    const { ociVersion: _, ...bad } = defaultSpec() as { ociVersion: string };
    expect(failure(() => checkConfig(bad, { cacheDir }))).toBe('config.json: /ociVersion: is missing');
  });

  it('names a value out of its list, and the list', () => {
    const bad = config({ linux: { namespaces: [{ type: 'bogus' }] } });
    expect(failure(() => checkConfig(bad, { cacheDir }))).toBe(
      'config.json: /linux/namespaces/0/type: must be one of mount, pid, network, uts, ipc, user, cgroup',
    );
  });

  it('shows a control character in a name, never sends it', () => {
    const bad = config({ annotations: { 'a\nb': 1 } });
    expect(failure(() => checkConfig(bad, { cacheDir }))).toBe('config.json: /annotations/a\\nb: must be string');
  });

  it('refuses what is no object', () => {
    expect(failure(() => checkConfig([], { cacheDir }))).toBe('config.json: must be object');
  });
});

describe('state', () => {
  it('takes a valid state', () => {
    expect(failure(() => checkState(state, { cacheDir }))).toBe('');
  });

  it('refuses a status the spec has not', () => {
    expect(failure(() => checkState({ ...state, status: 'sleeping' }, { cacheDir }))).toBe(
      'state: /status: must be one of creating, created, running, stopped',
    );
  });

  it('names a missing field', () => {
    const { bundle: _, ...bad } = state;
    expect(failure(() => checkState(bad, { cacheDir }))).toBe('state: /bundle: is missing');
  });
});

describe('the compiled validators', () => {
  it('are kept in the cache directory, with V8 code for them', () => {
    checkConfig(defaultSpec(), { cacheDir });
    const kept = readdirSync(cacheDir);
    expect(kept.filter((name) => /^[0-9a-f]{64}\.js$/.test(name))).toHaveLength(1);
    expect(kept.filter((name) => name.endsWith(`-${process.version}.v8`))).toHaveLength(1);
  });

  it('are read back by another process, which never loads ajv', { timeout: 20_000 }, () => {
    checkConfig(defaultSpec(), { cacheDir }); // the cache made, if this test runs alone
    const schema = new URL('../../shared/oci/schema.ts', import.meta.url).href;
    const script = `
      import { createRequire } from 'node:module';
      const { checkConfig } = await import(${JSON.stringify(schema)});
      checkConfig({ ociVersion: '1.0.2', process: { cwd: '/', args: ['sh'] } }, { cacheDir: ${JSON.stringify(cacheDir)} });
      const ajv = Object.keys(createRequire(import.meta.url).cache).filter((file) => file.includes('/ajv'));
      console.log(JSON.stringify(ajv));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual([]);
  });

  it('are compiled in memory where the cache directory cannot be written', () => {
    const inTheWay = join(cacheDir, 'a-file');
    writeFileSync(inTheWay, ''); // not even root makes a directory in a file
    const readOnly = join(inTheWay, 'cache');
    expect(failure(() => checkConfig(defaultSpec(), { cacheDir: readOnly }))).toBe('');
    expect(failure(() => checkConfig({}, { cacheDir: readOnly }))).toBe('config.json: /ociVersion: is missing');
  });

  it('name the package to install when the schemas are missing', () => {
    expect(failure(() => checkConfig(defaultSpec(), { schemaDir: join(cacheDir, 'none'), cacheDir }))).toMatch(
      /^no OCI runtime-spec schemas in .*: sudo apt-get install golang-github-opencontainers-specs-dev$/,
    );
  });
});

describe('features', () => {
  it("has the features document's fields, as runc 1.1 prints them", () => {
    const doc = features() as Record<string, unknown> & { linux: Record<string, Record<string, unknown> & object> };
    expect(doc).toMatchObject({
      ociVersionMin: '1.0.0',
      ociVersionMax: '1.0.2',
      hooks: ['prestart', 'createRuntime', 'poststart', 'poststop'],
    });
    expect(doc.mountOptions).toEqual(expect.arrayContaining(['bind', 'rbind', 'ro', 'nosuid', 'nodev', 'noexec', 'rprivate']));
    expect(doc.linux.namespaces).toEqual(['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts']);
    expect(doc.linux.capabilities).toEqual(ALL_CAPABILITIES);
    expect(doc.linux.cgroup).toMatchObject({ v1: true, v2: true });
    expect(doc.linux.seccomp).toMatchObject({ enabled: true });
    expect(doc.linux.seccomp!.actions).toContain('SCMP_ACT_NOTIFY'); // with a listenerPath
    expect(doc.linux.seccomp!.operators).toHaveLength(7);
    expect(doc.linux.seccomp!.archs).toContain('SCMP_ARCH_X86_64');
    expect(doc.linux).toMatchObject({ apparmor: { enabled: false }, selinux: { enabled: false } });
  });

  it('lists the mount options it is given, sorted', () => {
    expect((features(['rw', 'bind']) as { mountOptions: string[] }).mountOptions).toEqual(['bind', 'rw']);
  });
});
