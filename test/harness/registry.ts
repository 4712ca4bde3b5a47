// A real registry for the tests: Debian's docker-registry (the CNCF distribution
// registry), fed by skopeo from images umoci builds from local files. Its package would
// start a service on every interface when installed: the tests take its binary out of
// the .deb instead (apt-get download, dpkg-deb -x, once, into node_modules/.cache) and
// run it inside the sandbox, on 127.0.0.1 of the sandbox's own network namespace:
// nothing of it is visible from the host, and it dies with the sandbox.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO } from './sandbox.ts';

const CACHE = join(REPO, 'node_modules/.cache/registry');
const BINARY = join(CACHE, 'usr/bin/docker-registry');

/** The registry's binary, and that skopeo and umoci are there; throws, saying what to install. */
export function registryTools(): string {
  for (const tool of ['skopeo', 'umoci', 'openssl']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} is missing: sudo apt-get install skopeo umoci openssl (see .ci/run)`);
    }
  }
  if (existsSync(BINARY)) return BINARY;
  mkdirSync(dirname(CACHE), { recursive: true }); // a fresh clone has no node_modules/.cache yet
  const download = mkdtempSync(`${CACHE}-`);
  try {
    execFileSync('sh', ['-c', 'apt-get download docker-registry && dpkg-deb -x docker-registry_*.deb .'], { cwd: download, stdio: 'pipe' });
    rmSync(CACHE, { recursive: true, force: true });
    renameSync(download, CACHE); // whole or not at all: another test file may be at it too
  } catch (error) {
    rmSync(download, { recursive: true, force: true });
    if (existsSync(BINARY)) return BINARY;
    throw new Error(`apt-get download docker-registry failed (apt-get update first?): ${(error as { stderr?: Buffer }).stderr ?? error}`);
  }
  return BINARY;
}

/**
 * Bash functions for a sandbox script (after `REGISTRY_BIN=...`):
 *   start_registry PORT [YAML]  a registry on 127.0.0.1:PORT (YAML: more config, e.g. auth)
 *   push DIR:TAG REF [ARGS]     skopeo copy of an OCI layout's image to 127.0.0.1
 *   build_two_layer DIR         an OCI layout with image "two": busybox + files, then a
 *                               layer with a whiteout, an opaque directory and /etc/motd
 */
export const REGISTRY_FUNCTIONS = String.raw`
ip link set lo up
wait_port() { wait_until "a server on port $1" listening "$1"; }
start_registry() {
  local dir="$SANDBOX_DIR/registry-$1"; mkdir -p "$dir"
  printf '%s\n' 'version: 0.1' 'log: {level: error, accesslog: {disabled: true}}' \
    "storage: {filesystem: {rootdirectory: $dir/data}}" "http: {addr: 127.0.0.1:$1}" "$2" >"$dir/config.yml"
  "$REGISTRY_BIN" serve "$dir/config.yml" >"$dir/log" 2>&1 &
  wait_port "$1"
}
push() { skopeo copy --quiet --dest-tls-verify=false "${'$'}{@:3}" "oci:$1" "docker://127.0.0.1:$2"; }
build_two_layer() {
  local l="$SANDBOX_DIR/layers"; mkdir -p "$l/one/data" "$l/one/opaque" "$l/two/data" "$l/two/opaque" "$l/two/etc"
  cp -a "$CONTAINERFS/." "$l/one/"
  echo keep >"$l/one/data/keep.txt"; echo doomed >"$l/one/data/doomed.txt"; echo old >"$l/one/opaque/old.txt"
  echo 'hello from layer two' >"$l/two/etc/motd"; : >"$l/two/data/.wh.doomed.txt"
  : >"$l/two/opaque/.wh..wh..opq"; echo new >"$l/two/opaque/new.txt"
  tar -cf "$l/one.tar" -C "$l/one" . && tar -cf "$l/two.tar" -C "$l/two" .
  umoci init --layout "$1" && umoci new --image "$1:two"
  umoci raw add-layer --image "$1:two" "$l/one.tar" && umoci raw add-layer --image "$1:two" "$l/two.tar"
  umoci config --image "$1:two" --config.workingdir /data --config.env GREETING=hello --config.user 1000:1000 \
    --config.cmd sh --config.cmd -c --config.cmd 'echo "cwd=$(pwd) greeting=$GREETING id=$(id -u):$(id -g) ls=$(ls | tr "\n" " ") opaque=$(ls /opaque)"; cat /etc/motd'
}
`;

/** The image the course pages pull (steps/10-overlay/README.md): build_two_layer's. */
const COURSE_IMAGE = '127.0.0.1:5000/course/hello:v1';

/** For a transcript that pulls COURSE_IMAGE, the script that serves it first; '' for others. */
export function courseRegistry(transcript: string): string {
  if (!transcript.includes(COURSE_IMAGE)) return '';
  return `REGISTRY_BIN=${registryTools()}\n${REGISTRY_FUNCTIONS}
{ start_registry 5000 && build_two_layer "$SANDBOX_DIR/oci" && push "$SANDBOX_DIR/oci:two" 5000/course/hello:v1; } >/dev/null || echo "the course's registry did not start" >&2\n`;
}
