// A bundle's config.json, and a container's state, checked against the OCI runtime
// spec's own JSON schemas (draft-04), as Debian's golang-github-opencontainers-specs-dev
// installs them: a field of the wrong type is one line that names it, before the
// runtime acts on any of it ("config.json: /process/args: must be array").
//
// ajv turns the schemas into JavaScript: ~200 ms a process (loading ajv ~30, compiling
// ~150), far too much for every `create`. So its code (ajv's standalone output, ~200 KB)
// is kept in a cache directory, named by a sha256 of the schema files, ajv's versions
// and options, with V8's code cache for it, made after a first validation: V8 compiles a
// function only when it first runs, and these take ~5 ms to compile. Measured with Node
// 24 on a 2-core VM, a start from the cache: ~3 ms to load (reading the schemas 0.3,
// their hash 0.7, the cache 0.3, V8 taking it 1.5; up to twice that while the machine is
// busy), 0.2 ms to check runc's config.json. The same code without V8's cache: through
// `new Function`, 5.5 ms to load and 5 for the first check; through a dynamic import, 6
// and 11 (2 and 8 with NODE_COMPILE_CACHE, which keeps only what was compiled before the
// module ran), and the check would be async. A vm Script takes V8's cache and stays
// synchronous. Where the directory cannot be written (the unit tests, as nobody), ajv
// compiles in memory, once per process.
//
// The cached file is code that runs: the cache directory must be no more writable than
// the project itself (the default is in its node_modules/).
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Script } from 'node:vm';
import type { ErrorObject } from 'ajv';
import { RuntimeError } from '../runtime/errors.ts';
import { PROJECT_DIR } from '../runtime/project-dir.ts';
import { printable } from '../runtime/quote.ts';
import { defaultSpec } from './spec.ts';

const SCHEMA_DIR = '/usr/share/gocode/src/github.com/opencontainers/runtime-spec/schema';
const CACHE_DIR = join(PROJECT_DIR, 'node_modules/.cache/oci-schema');

/** Where the schemas are, where their compiled code is kept (tests give their own). */
interface Places {
  schemaDir?: string;
  cacheDir?: string;
}

type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
interface Validators {
  checkConfig: Validate;
  checkState: Validate;
}

// strict off: the schemas are the spec's, not ours to tidy. Part of the cache's key.
const AJV_OPTIONS = { strict: false, code: { source: true } };

const require = createRequire(import.meta.url);
const loaded = new Map<string, Validators>();

/** `config` as config.json must be, or a RuntimeError naming the first field that is not. */
export function checkConfig(config: unknown, places: Places = {}): void {
  check('config.json', validators(places).checkConfig, config);
}

/** `state` as the runtime spec's state must be ("status": created...), or a RuntimeError naming the field. */
export function checkState(state: unknown, places: Places = {}): void {
  check('state', validators(places).checkState, state);
}

function check(what: string, validate: Validate, data: unknown): void {
  if (validate(data)) return;
  const error = validate.errors?.[0]; // ajv stops at the first (allErrors is off)
  if (!error) throw new RuntimeError(`${what}: not valid`);
  let { instancePath: path, message = 'not valid' } = error;
  if (error.keyword === 'required') {
    path += `/${error.params.missingProperty}`;
    message = 'is missing';
  } else if (error.keyword === 'enum') {
    message = `must be one of ${error.params.allowedValues.join(', ')}`;
  }
  throw new RuntimeError(`${what}: ${path ? `${printable(path)}: ` : ''}${message}`);
}

function validators({ schemaDir = SCHEMA_DIR, cacheDir = CACHE_DIR }: Places): Validators {
  const place = `${schemaDir}\n${cacheDir}`;
  let these = loaded.get(place);
  if (!these) loaded.set(place, (these = load(schemaDir, cacheDir)));
  return these;
}

/** The schemas' validators: from the cache if it has them, else compiled (and kept there if it can). */
function load(schemaDir: string, cacheDir: string): Validators {
  const files = schemaFiles(schemaDir);
  const digest = process
    .getBuiltinModule('node:crypto')
    .hash('sha256', [...ajvVersions(), JSON.stringify(AJV_OPTIONS), ...files.flat()].join('\0'));
  const codeFile = join(cacheDir, `${digest}.js`);
  const v8File = join(cacheDir, `${digest}-${process.version}.v8`); // V8's cache holds for one V8 only

  let code = readOrUndefined(codeFile)?.toString();
  let cachedData = code === undefined ? undefined : readOrUndefined(v8File);
  let run: { script: Script; validators: Validators } | undefined;
  try {
    if (code !== undefined) run = evaluate(code, codeFile, cachedData);
  } catch {} // not code that runs: compiled again, and written over
  let keep = true;
  if (!run) {
    code = compile(files);
    cachedData = undefined;
    run = evaluate(code, codeFile, undefined);
    keep = saveWhole(codeFile, code);
  }
  if (keep && (cachedData === undefined || run.script.cachedDataRejected)) {
    warmUp(run.validators);
    saveWhole(v8File, run.script.createCachedData());
  }
  return run.validators;
}

/** Every schema file, by name (sorted: the key must not depend on the directory's order). */
function schemaFiles(dir: string): [string, string][] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch {
    names = [];
  }
  if (!names.includes('config-schema.json') || !names.includes('state-schema.json')) {
    throw new RuntimeError(`no OCI runtime-spec schemas in ${dir}: sudo apt-get install golang-github-opencontainers-specs-dev`);
  }
  return names.sort().map((name) => [name, readFileSync(join(dir, name), 'utf8')]);
}

/** ajv's versions, read where npm puts them: require's resolution would cost ~2 ms of every start. */
function ajvVersions(): string[] {
  return ['ajv', 'ajv-draft-04'].map((name) => {
    const text = readOrUndefined(join(PROJECT_DIR, 'node_modules', name, 'package.json'));
    return text === undefined ? '' : JSON.parse(text.toString()).version;
  });
}

/** ajv's standalone code for the two schemas (each file added under its name: their $refs are "defs.json#/..."). */
function compile(files: [string, string][]): string {
  let Ajv: typeof import('ajv-draft-04').default;
  let standalone: typeof import('ajv/dist/standalone/index.js').default;
  try {
    Ajv = require('ajv-draft-04').default;
    standalone = require('ajv/dist/standalone/index.js').default;
  } catch {
    throw new RuntimeError('ajv is missing, which checks config.json: npm install');
  }
  const ajv = new Ajv(AJV_OPTIONS);
  for (const [name, text] of files) ajv.addSchema(JSON.parse(text), name);
  const code = standalone(ajv, { checkConfig: 'config-schema.json', checkState: 'state-schema.json' });
  // A function of exports and require (a later schema may want ajv's runtime helpers).
  return `(function (exports, require) {${code}\n})`;
}

function evaluate(code: string, filename: string, cachedData: Buffer | undefined) {
  const script = new (process.getBuiltinModule('node:vm').Script)(code, { filename, cachedData });
  const validators = {} as Validators;
  script.runInThisContext()(validators, require);
  if (typeof validators.checkConfig !== 'function' || typeof validators.checkState !== 'function') throw new Error('no validators');
  return { script, validators };
}

/** Run what a container's start runs, so that V8's cache has it compiled. */
function warmUp({ checkConfig, checkState }: Validators): void {
  const spec = defaultSpec() as { linux: Record<string, unknown> };
  checkConfig({
    ...spec,
    annotations: { 'org.example': 'x' },
    linux: {
      ...spec.linux,
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      sysctl: { 'net.ipv4.ping_group_range': '0 0' },
      cgroupsPath: '/x',
      resources: { devices: [{ allow: false, access: 'rwm' }], pids: { limit: 1 }, memory: { limit: 1 }, cpu: { shares: 1 } },
      seccomp: {
        defaultAction: 'SCMP_ACT_ERRNO',
        architectures: ['SCMP_ARCH_X86_64'],
        syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] }],
      },
    },
  });
  checkState({ ociVersion: '1.0.2', id: 'x', status: 'created', pid: 1, bundle: '/x', annotations: {} });
}

function readOrUndefined(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Write `data` at `file` whole (a rename), or not at all: a cache only saves time. */
function saveWhole(file: string, data: string | Uint8Array): boolean {
  try {
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(`${file}.${process.pid}`, data);
    renameSync(`${file}.${process.pid}`, file);
    return true;
  } catch {
    return false;
  }
}
