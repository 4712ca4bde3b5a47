// npm run image -- pull, against a real registry (test/harness/registry.ts) in the sandbox's own
// network namespace, fed with images umoci builds from local files; then the images
// run as a learner runs them, and the store is looked at from outside.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { stepsWhere } from '../course/expectations.ts';
import { value } from '../harness/outcome.ts';
import { REGISTRY_FUNCTIONS, registryTools } from '../harness/registry.ts';
import { inSandbox } from '../harness/sandbox.ts';

const REF = '127.0.0.1:5000/test/two-layer';
// What is in the store: pulled images' records, layers (and half-made ones)
const STORE = String.raw`store() { ls -A "$CONTAINER_STATE/images/.pulled" "$CONTAINER_STATE/images/.layers" 2>/dev/null | grep -vc -e '^$' -e ':$'; }`;

let registryBin = '';
beforeAll(() => {
  registryBin = registryTools(); // fails the tests, saying what is missing
});

function sandbox(script: string, step = '10-overlay') {
  const prelude = `REGISTRY_BIN=${registryBin}\n${REGISTRY_FUNCTIONS}\n${STORE}\nstart_registry 5000 || exit 1\n`;
  return inSandbox(prelude + script, { step, ...inject('sandbox'), timeoutMs: 60_000 });
}

const TWO_LAYER = String.raw`
build_two_layer "$SANDBOX_DIR/oci" >/dev/null && push "$SANDBOX_DIR/oci:two" 5000/test/two-layer:v1 || echo "setup failed"
`;

for (const step of stepsWhere('writes-reach-rootfs', false)) {
  describe(`step ${step}: a pulled image`, () => {
    it('runs its Cmd with its Env, WorkingDir and User, on its layers (top first), whiteouts applied; no host env in PID 1', async () => {
      const outcome = await sandbox(
        TWO_LAYER +
          String.raw`
        npm run -s image -- pull ${REF}:v1 2>"$SANDBOX_DIR/err" | cat; echo "pull=$?"; echo "said=$(cat "$SANDBOX_DIR/err")"
        run --image ${REF}:v1 2>/dev/null; echo "run=$?"
        run --image ${REF}:v1 sh -c 'echo "lower=$(sed -n "s/.*lowerdir=\([^,]*\).*/\1/p" /proc/mounts | head -1)"; echo "env=$(env | sort | tr "\n" " ")"' 2>/dev/null
        echo "layers=$(ls "$CONTAINER_STATE/images/.layers" | grep -v json | tr "\n" " ")"
        echo 'process.pid === 1 && process.stderr.write("evil-in-pid-1\n")' >"$SANDBOX_DIR/evil.cjs"; chmod 755 "$SANDBOX_DIR"
        HOST_SECRET=from-host NODE_OPTIONS="--require=$SANDBOX_DIR/evil.cjs" run --image ${REF}:v1 \
          sh -c 'echo "pid1_env=$(tr "\0" "\n" </proc/1/environ | grep -c -e HOST_SECRET -e NODE_OPTIONS)"' 2>&1`,
        step,
      );
      expect(value(outcome, 'pull'), outcome.stderr).toBe('0');
      expect(value(outcome, 'said')).toMatch(/^Pulled 127\.0\.0\.1:5000\/test\/two-layer:v1 \(sha256:[0-9a-f]{64}, 2 layer\(s\)\)$/); // piped: no progress lines
      expect(value(outcome, 'run'), outcome.stderr).toBe('0');
      expect(value(outcome, 'cwd')).toBe('/data greeting=hello id=1000:1000 ls=keep.txt  opaque=new.txt'); // doomed.txt whited out, old.txt under an opaque dir
      expect(outcome.stdout).toContain('hello from layer two\n');
      // from step 14 on, HOME too, as docker sets it: the user (1000) has no /etc/passwd entry, so /
      const home = stepsWhere('sees-runtime-env', false).includes(step) ? 'HOME=/ ' : '';
      expect(value(outcome, 'env')).toBe(
        `GREETING=hello ${home}HOSTNAME=container-demo PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin PWD=/data SHLVL=1 `,
      );
      // the container's first process starts with the image's environment, never the caller's
      expect(value(outcome, 'pid1_env')).toBe('0');
      expect(outcome.stdout).not.toContain('evil-in-pid-1');
      const layers = value(outcome, 'layers')!.trim().split(' ');
      expect(layers).toHaveLength(2);
      expect(value(outcome, 'lower')!.split(':').sort()).toEqual(layers.sort());
    });
  });
}

describe.concurrent('npm run image -- pull', () => {
  it('an OCI and a Docker (v2s2) manifest of one image: the layers unpacked once, list, a command replaces Cmd, rm', async () => {
    const outcome = await sandbox(
      TWO_LAYER +
        String.raw`
      push "$SANDBOX_DIR/oci:two" 5000/test/two-layer:docker --format v2s2
      npm run -s image -- pull ${REF}:v1 2>/dev/null; npm run -s image -- pull ${REF}:docker 2>&1 | grep -c 'layer'
      echo "second=$?"
      echo "layers=$(ls "$CONTAINER_STATE/images/.layers" | grep -vc json)"
      npm run -s image -- list | grep two-layer | tr '\t' ' ' | sed 's/^/list=/'
      run --image ${REF}:docker cat /etc/motd 2>/dev/null | sed 's/^/replaced=/'
      npm run -s image -- rm ${REF}:v1 2>&1 | sed 's/^/rm1=/'
      echo "after_rm1=$(store)"
      npm run -s image -- rm ${REF}:docker 2>&1 | sed 's/^/rm2=/'
      echo "after_rm2=$(store)"
      npm run -s image -- rm ${REF}:docker 2>&1 | sed 's/^/rm3=/'`,
    );
    expect(value(outcome, 'layers'), outcome.stderr).toBe('2'); // not 4
    expect(outcome.stdout).toMatch(/^list=127\.0\.0\.1:5000\/test\/two-layer:docker sha256:[0-9a-f]{12} \d+\.\d MB 2 layer\(s\)$/m);
    expect(outcome.stdout).toMatch(/^list=127\.0\.0\.1:5000\/test\/two-layer:v1 sha256:[0-9a-f]{12} \d+\.\d MB 2 layer\(s\)$/m);
    expect(value(outcome, 'replaced')).toBe('hello from layer two');
    expect(value(outcome, 'rm1')).toMatch(/^Removed image .*two-layer:v1 \(0 layer\(s\) removed, 2 still used\)$/);
    expect(value(outcome, 'after_rm1')).toBe('5'); // one record, two layers and their .json
    expect(value(outcome, 'rm2')).toMatch(/\(2 layer\(s\) removed, 0 still used\)$/);
    expect(value(outcome, 'after_rm2')).toBe('0');
    expect(value(outcome, 'rm3')).toMatch(/^image rm: no image named .*two-layer:docker$|^no image named/);
  });

  it('two pulls of one image at once: the second waits for the first (the store is locked); each layer unpacked once', async () => {
    const outcome = await sandbox(
      TWO_LAYER +
        String.raw`
      gate="$SANDBOX_DIR/gate"; node test/fixtures/cutting-proxy.ts 5010 5000 "gate:$gate" & wait_port 5010
      # the first pull, held at its first layer by the proxy; the second, straight from the registry
      npm run -s image -- pull 127.0.0.1:5010/test/two-layer:v1 >/dev/null 2>"$SANDBOX_DIR/p1" & first=$!
      wait_until 'the first pull at its first layer' test -e "$gate.reached"
      npm run -s image -- pull ${REF}:v1 >/dev/null 2>"$SANDBOX_DIR/p2" & second=$!
      waiting_or_done() { has Waiting "$SANDBOX_DIR/p2" || ended $second; }
      wait_until 'the second pull waiting, or done' waiting_or_done
      touch "$gate"
      wait $first; echo "first=$?"; wait $second; echo "second=$?"
      echo "waited=$(grep -c '^Waiting for another pull, import or rm to finish$' "$SANDBOX_DIR/p2")"
      cat "$SANDBOX_DIR/p1" "$SANDBOX_DIR/p2" | grep -v -e '^Pulled' -e '^Waiting for another' | sed 's/^/said=/'
      echo "layers=$(ls "$CONTAINER_STATE/images/.layers" | grep -vc json) records=$(ls "$CONTAINER_STATE/images/.pulled" | wc -l)"
      run --image ${REF}:v1 cat /etc/motd 2>/dev/null | sed 's/^/ran=/'`,
    );
    expect(value(outcome, 'first'), outcome.stdout).toBe('0');
    expect(value(outcome, 'second'), outcome.stdout).toBe('0');
    expect(value(outcome, 'waited')).toBe('1');
    expect(value(outcome, 'said')).toBeUndefined();
    expect(value(outcome, 'layers')).toBe('2 records=1'); // one image, two names
    expect(value(outcome, 'ran')).toBe('hello from layer two');
  });

  it('rm of a pulled image a kept writable layer is on: refused, until the layer goes', async () => {
    const outcome = await sandbox(
      TWO_LAYER +
        String.raw`
      npm run -s image -- pull ${REF}:v1 2>/dev/null
      run --keep --image ${REF}:v1 true 2>/dev/null
      npm run -s image -- rm ${REF}:v1 2>&1 | sed 's/^/used=/'; echo "used_status=${'$'}{PIPESTATUS[0]}"
      node scripts/clean.ts --kept >/dev/null
      npm run -s image -- rm ${REF}:v1 2>&1 | sed 's/^/rm=/'; echo "left=$(store)"`,
    );
    expect(value(outcome, 'used'), outcome.stderr).toMatch(/^image sha256:[0-9a-f]{64} is used by the writable layer [0-9a-f]{12}$/);
    expect(value(outcome, 'used_status')).toBe('1');
    expect(value(outcome, 'rm')).toMatch(/^Removed image .*\(2 layer\(s\) removed, 0 still used\)$/);
    expect(value(outcome, 'left')).toBe('0');
  });

  it("a user by name, from the image's /etc/passwd and /etc/group; one it lacks: 125, one line", async () => {
    const outcome = await sandbox(
      TWO_LAYER +
        String.raw`
      for user in nobody nobody:root ghost; do
        umoci config --image "$SANDBOX_DIR/oci:two" --tag "$(echo "$user" | tr : -)" --config.user "$user" >/dev/null
        push "$SANDBOX_DIR/oci:$(echo "$user" | tr : -)" "5000/test/user:$(echo "$user" | tr : -)"
        npm run -s image -- pull "127.0.0.1:5000/test/user:$(echo "$user" | tr : -)" 2>/dev/null
        run --image "127.0.0.1:5000/test/user:$(echo "$user" | tr : -)" sh -c 'echo "ids=$(id -u):$(id -g)"' 2>"$SANDBOX_DIR/err" | sed "s/^/$user /"
        echo "$user status=${'$'}{PIPESTATUS[0]} err=$(grep -v '^Running' "$SANDBOX_DIR/err")"
      done`,
    );
    expect(outcome.stdout, outcome.stderr).toContain('nobody ids=65534:65534\n');
    expect(outcome.stdout).toContain('nobody:root ids=65534:0\n');
    expect(outcome.stdout).toMatch(/^ghost status=125 err=the image's user ghost is not in its \/etc\/passwd$/m);
    expect(outcome.stdout).not.toContain('ghost ids=');
  });

  it('layers compressed with gzip, zstd, or not at all; schema 1 refused in one line', async () => {
    const outcome = await sandbox(String.raw`
      l="$SANDBOX_DIR/l"; mkdir -p "$l/top/etc"; echo "on top" >"$l/top/etc/motd"
      tar -cf "$l/base.tar" -C "$CONTAINERFS" . && tar -cf "$l/top.tar" -C "$l/top" .
      for how in gzip zstd plain; do
        node test/fixtures/oci-layout.ts "$SANDBOX_DIR/$how" v1 "$how:$l/base.tar" "$how:$l/top.tar" -- cat /etc/motd
        node test/fixtures/push-raw.ts "$SANDBOX_DIR/$how" v1 "127.0.0.1:5000/test/$how:v1" # skopeo would gzip a plain layer
        echo "$how as=$(skopeo inspect --tls-verify=false --raw "docker://127.0.0.1:5000/test/$how:v1" | grep -o 'layer.v1.tar[+a-z]*' | sort -u)"
        npm run -s image -- pull "127.0.0.1:5000/test/$how:v1" 2>/dev/null; echo "$how pull=$?"
        run --image "127.0.0.1:5000/test/$how:v1" 2>/dev/null | sed "s/^/$how says /"
      done
      start_registry 5010 "compatibility: {schema1: {enabled: true}}"
      build_two_layer "$SANDBOX_DIR/oci" >/dev/null && push "$SANDBOX_DIR/oci:two" 5010/test/old:v1 --format v2s1
      npm run -s image -- pull 127.0.0.1:5010/test/old:v1 2>&1 | sed 's/^/schema1=/'`);
    expect(outcome.stdout).toContain('gzip as=layer.v1.tar+gzip\n');
    expect(outcome.stdout).toContain('zstd as=layer.v1.tar+zstd\n');
    expect(outcome.stdout).toContain('plain as=layer.v1.tar\n');
    for (const how of ['gzip', 'zstd', 'plain']) {
      expect(outcome.stdout, outcome.stderr).toContain(`${how} pull=0\n${how} says on top\n`);
    }
    expect(value(outcome, 'schema1')).toBe(
      "image pull: test/old:v1 has a schema 1 manifest (docker's format before 2017), which this runtime does not read",
    );
  });

  it('a layer with a file through its own symlink is refused; device nodes are left out, with a note', async () => {
    const outcome = await sandbox(String.raw`
      l="$SANDBOX_DIR/l"; mkdir -p "$l/s/real" "$l/d/dev" "$SANDBOX_DIR/outside"; echo evil >"$l/s/real/file"
      ln -s "$SANDBOX_DIR/outside" "$l/s/link"
      tar -cf "$l/sym.tar" -C "$l/s" link && tar -rf "$l/sym.tar" -C "$l/s" --transform 's,^real,link,' real/file
      mknod "$l/d/dev/sda" b 8 0; mknod "$l/d/dev/$(printf 'x\033[2Jy')" b 8 1; tar -cf "$l/dev.tar" -C "$l/d" . && tar -cf "$l/base.tar" -C "$CONTAINERFS" .
      node test/fixtures/oci-layout.ts "$SANDBOX_DIR/sym" v1 "gzip:$l/base.tar" "gzip:$l/sym.tar" && push "$SANDBOX_DIR/sym:v1" 5000/test/sym:v1
      node test/fixtures/oci-layout.ts "$SANDBOX_DIR/dev" v1 "gzip:$l/base.tar" "gzip:$l/dev.tar" && push "$SANDBOX_DIR/dev:v1" 5000/test/dev:v1
      npm run -s image -- pull 127.0.0.1:5000/test/sym:v1 2>&1 | sed 's/^/sym=/'
      echo "outside=$(ls -A "$SANDBOX_DIR/outside" | wc -l) left=$(store)"
      npm run -s image -- pull 127.0.0.1:5000/test/dev:v1 2>&1 | sed 's/^/dev=/'
      run --image 127.0.0.1:5000/test/dev:v1 sh -c 'echo "sda=$(ls /dev/sda 2>/dev/null | wc -l)"' 2>/dev/null`);
    expect(value(outcome, 'sym'), outcome.stderr).toMatch(
      /^image pull: layer sha256:[0-9a-f]{64}: \.?\/?link\/file: goes through the symlink link$/,
    );
    expect(value(outcome, 'outside')).toBe('0 left=0'); // nothing written outside, no image, no layer
    // a name's control characters shown, never sent: \e[2J would clear the learner's screen
    const notes = outcome.stdout.match(/^dev=layer sha256:[0-9a-f]{64}: 2 device node\(s\) left out \((.*)\)$/m)?.[1];
    expect(notes?.split(', ').sort(), outcome.stdout).toEqual(['./dev/sda', './dev/x\\x1b[2Jy']);
    expect(outcome.stdout).not.toContain('\x1b');
    expect(value(outcome, 'sda')).toBe('0');
  });

  it("a multi-arch index: this machine's platform is the one pulled", async () => {
    const outcome = await sandbox(
      TWO_LAYER +
        String.raw`
      oci="$SANDBOX_DIR/oci"
      umoci config --image "$oci:two" --tag amd64 --architecture amd64 --config.env ARCH=amd64 >/dev/null
      umoci config --image "$oci:two" --tag arm64 --architecture arm64 --config.env ARCH=arm64 >/dev/null
      node -e '
        const fs = require("fs"), crypto = require("crypto"), dir = process.argv[1];
        const layout = JSON.parse(fs.readFileSync(dir + "/index.json"));
        const tagged = (tag) => layout.manifests.find((m) => m.annotations["org.opencontainers.image.ref.name"] === tag);
        const entry = (tag, platform) => ({ ...tagged(tag), annotations: undefined, platform });
        // arm64 first: a client that takes the first entry gets the wrong one
        const index = JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
          manifests: [entry("arm64", { os: "linux", architecture: "arm64", variant: "v8" }), entry("amd64", { os: "linux", architecture: "amd64" })] });
        const hex = crypto.createHash("sha256").update(index).digest("hex");
        fs.writeFileSync(dir + "/blobs/sha256/" + hex, index);
        layout.manifests.push({ mediaType: "application/vnd.oci.image.index.v1+json", digest: "sha256:" + hex, size: index.length,
          annotations: { "org.opencontainers.image.ref.name": "multi" } });
        fs.writeFileSync(dir + "/index.json", JSON.stringify(layout));' "$oci"
      push "$oci:multi" 5000/test/multi:v1 --all
      npm run -s image -- pull 127.0.0.1:5000/test/multi:v1 2>&1 | sed 's/^/pull=/'
      run --image 127.0.0.1:5000/test/multi:v1 sh -c 'echo "arch=$ARCH"' 2>/dev/null`,
    );
    expect(value(outcome, 'pull'), outcome.stderr).toMatch(/^Pulled 127\.0\.0\.1:5000\/test\/multi:v1/);
    expect(value(outcome, 'arch')).toBe(process.arch === 'arm64' ? 'arm64' : 'amd64');
  });

  it('a registry with the Bearer-token flow: anonymous where allowed, --creds elsewhere, a wrong password refused', async () => {
    const outcome = await sandbox(
      TWO_LAYER +
        String.raw`
      t="$SANDBOX_DIR/token"; mkdir "$t"
      openssl req -x509 -newkey rsa:2048 -nodes -keyout "$t/key.pem" -out "$t/cert.pem" -subj /CN=token -days 1 2>/dev/null
      node test/fixtures/token-server.ts 5001 "$t/key.pem" "$t/cert.pem" & wait_port 5001
      start_registry 5002 "auth: {token: {realm: 'http://127.0.0.1:5001/token', service: test-registry, issuer: test-issuer, rootcertbundle: $t/cert.pem}}"
      push "$SANDBOX_DIR/oci:two" 5002/private/app:v1 --dest-creds tester:secret
      push "$SANDBOX_DIR/oci:two" 5002/public/app:v1 --dest-creds tester:secret
      npm run -s image -- pull 127.0.0.1:5002/public/app:v1 2>&1 | sed 's/^/public=/'
      npm run -s image -- pull 127.0.0.1:5002/private/app:v1 2>&1 | sed 's/^/anonymous=/'
      npm run -s image -- pull --creds tester:wrong 127.0.0.1:5002/private/app:v1 2>&1 | sed 's/^/wrong=/'
      npm run -s image -- pull --creds tester:secret 127.0.0.1:5002/private/app:v1 2>&1 | sed 's/^/creds=/'
      # the same registry, its realm a redirect to another origin: --creds go no further
      node test/fixtures/cutting-proxy.ts 5009 5001 elsewhere & wait_port 5009
      sed "s|127.0.0.1:5002|127.0.0.1:5010|; s|http://127.0.0.1:5001/token|http://127.0.0.1:5009/token|" "$SANDBOX_DIR/registry-5002/config.yml" >"$SANDBOX_DIR/elsewhere.yml"
      "$REGISTRY_BIN" serve "$SANDBOX_DIR/elsewhere.yml" >/dev/null 2>&1 & wait_port 5010
      npm run -s image -- pull --creds tester:secret 127.0.0.1:5010/private/app:v1 2>&1 | sed 's/^/redirected=/'`,
    );
    expect(value(outcome, 'public'), outcome.stderr).toMatch(/^Pulled 127\.0\.0\.1:5002\/public\/app:v1/);
    expect(value(outcome, 'anonymous')).toMatch(
      /^image pull: .*private\/app\/manifests\/v1: access denied \(a private image\? --creds user:password\)$/,
    );
    expect(value(outcome, 'wrong')).toMatch(/^image pull: token from http:\/\/127\.0\.0\.1:5001\/token: 401/);
    expect(value(outcome, 'creds')).toMatch(/^Pulled 127\.0\.0\.1:5002\/private\/app:v1/);
    // the token server, at another origin than the realm named, got no password: no token for a private image
    expect(value(outcome, 'redirected')).toMatch(/^image pull: .*private\/app\/manifests\/v1: access denied/);
  });

  it('a registry with Basic authentication (htpasswd): no --creds, wrong ones, right ones', async () => {
    const outcome = await sandbox(
      TWO_LAYER +
        String.raw`
      node test/fixtures/htpasswd.ts tester secret >"$SANDBOX_DIR/htpasswd"
      start_registry 5008 "auth: {htpasswd: {realm: test-realm, path: $SANDBOX_DIR/htpasswd}}"
      push "$SANDBOX_DIR/oci:two" 5008/test/basic:v1 --dest-creds tester:secret
      npm run -s image -- pull 127.0.0.1:5008/test/basic:v1 2>&1 | sed 's/^/none=/'
      npm run -s image -- pull --creds tester:wrong 127.0.0.1:5008/test/basic:v1 2>&1 | sed 's/^/wrong=/'
      npm run -s image -- pull --creds=tester:secret 127.0.0.1:5008/test/basic:v1 2>&1 | sed 's/^/right=/'`,
    );
    expect(value(outcome, 'none'), outcome.stderr).toBe(
      'image pull: http://127.0.0.1:5008 wants a user and password: --creds user:password',
    );
    expect(value(outcome, 'wrong')).toBe(
      'image pull: http://127.0.0.1:5008/v2/test/basic/manifests/v1: access denied (a wrong user or password?)',
    );
    expect(value(outcome, 'right')).toMatch(/^Pulled 127\.0\.0\.1:5008\/test\/basic:v1/);
  });

  it('a tampered blob, an image that is not there, an endless manifest: status 1, one line naming it, nothing left', async () => {
    const outcome = await sandbox(
      TWO_LAYER +
        String.raw`
      npm run -s image -- pull 127.0.0.1:5000/test/nope:v1 2>&1 | sed 's/^/missing=/'; echo "missing_status=${'$'}{PIPESTATUS[0]}"
      # the bottom layer's bytes changed in the registry's storage, size kept
      layer=$(skopeo inspect --tls-verify=false --raw docker://${REF}:v1 | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).layers[0].digest.slice(7))')
      data=$(find "$SANDBOX_DIR/registry-5000/data" -path "*/blobs/sha256/*/$layer/data")
      printf 'XXXX' | dd of="$data" bs=1 seek=2000 conv=notrunc 2>/dev/null
      npm run -s image -- pull ${REF}:v1 2>&1 | sed 's/^/tampered=/'; echo "tampered_status=${'$'}{PIPESTATUS[0]}"
      # a manifest of 16 MiB, chunked: no Content-Length to refuse it by (the limit: 4 MiB)
      node test/fixtures/cutting-proxy.ts 5008 5000 huge-manifest & wait_port 5008
      npm run -s image -- pull 127.0.0.1:5008/test/two-layer:v1 2>&1 | sed 's/^/huge=/'; echo "huge_status=${'$'}{PIPESTATUS[0]}"
      echo "layer=$layer"; echo "left=$(store)"`,
    );
    expect(value(outcome, 'huge')).toBe('image pull: test/two-layer/manifests/v1: more than 4194304 bytes, too big');
    expect(value(outcome, 'huge_status')).toBe('1');
    expect(value(outcome, 'missing'), outcome.stderr).toBe('image pull: test/nope:v1: no such image in the registry (404)');
    expect(value(outcome, 'missing_status')).toBe('1');
    const layer = value(outcome, 'layer');
    // gzip may notice first (a bad block, a bad CRC), else the digest check does: the line names the layer
    expect(value(outcome, 'tampered')).toMatch(new RegExp(`^image pull: (blob|layer) sha256:${layer}[: ]`));
    expect(outcome.stdout.match(/^tampered=/gm)).toHaveLength(1);
    expect(value(outcome, 'tampered_status')).toBe('1');
    expect(value(outcome, 'left')).toBe('0');
  });

  it('blobs sent from another host (a redirect); plain HTTP only to this machine, or with --insecure', async () => {
    const outcome = await sandbox(
      TWO_LAYER +
        String.raw`
      node test/fixtures/cutting-proxy.ts 5006 5000 redirect & wait_port 5006
      npm run -s image -- pull 127.0.0.1:5006/test/two-layer:v1 2>&1 | sed 's/^/redirected=/'
      ip addr add 10.254.0.1/32 dev lo
      sed 's/127.0.0.1:5000/10.254.0.1:5007/' "$SANDBOX_DIR/registry-5000/config.yml" >"$SANDBOX_DIR/far.yml"
      "$REGISTRY_BIN" serve "$SANDBOX_DIR/far.yml" >/dev/null 2>&1 &
      wait_port 5007
      npm run -s image -- pull 10.254.0.1:5007/test/two-layer:v1 2>&1 | sed 's/^/https=/'
      npm run -s image -- pull --insecure 10.254.0.1:5007/test/two-layer:v1 2>&1 | sed 's/^/insecure=/'`,
    );
    expect(value(outcome, 'redirected'), outcome.stderr).toMatch(/^Pulled 127\.0\.0\.1:5006\/test\/two-layer:v1/);
    expect(value(outcome, 'https')).toMatch(/^image pull: https:\/\/10\.254\.0\.1:5007\/v2\/test\/two-layer\/manifests\/v1: /); // TLS to a plain HTTP server
    expect(value(outcome, 'insecure')).toMatch(/^Pulled 10\.254\.0\.1:5007\/test\/two-layer:v1/);
  });

  it('a server that stops mid-layer: a dropped connection is resumed; one that keeps dropping fails; a pull killed midway is cleaned', async () => {
    const outcome = await sandbox(
      TWO_LAYER +
        String.raw`
      node test/fixtures/cutting-proxy.ts 5003 5000 once & node test/fixtures/cutting-proxy.ts 5004 5000 always &
      node test/fixtures/cutting-proxy.ts 5005 5000 stall & wait_port 5003 && wait_port 5004 && wait_port 5005
      npm run -s image -- pull 127.0.0.1:5004/test/two-layer:v1 2>&1 | sed 's/^/always=/'; echo "always_status=${'$'}{PIPESTATUS[0]}"
      echo "after_always=$(store)"
      npm run -s image -- pull 127.0.0.1:5003/test/two-layer:v1 2>&1 | sed 's/^/once=/'
      npm run -s image -- rm 127.0.0.1:5003/test/two-layer:v1 2>/dev/null
      node scripts/image.ts pull 127.0.0.1:5005/test/two-layer:v1 2>/dev/null & pid=$!
      half_pulled() { ls "$CONTAINER_STATE/images/.layers" 2>/dev/null | grep -q partial; }
      wait_until 'a half-pulled layer' half_pulled
      kill -9 $pid; wait $pid 2>/dev/null
      echo "killed_left=$(ls -A "$CONTAINER_STATE/images/.layers" | grep -c partial)"
      node scripts/clean.ts | grep -A1 half-pulled | tr '\n' ' ' | sed 's/^/clean=/'; echo
      echo "after_clean=$(ls -A "$CONTAINER_STATE/images/.layers" | grep -c partial)"`,
    );
    expect(value(outcome, 'always'), outcome.stderr).toMatch(/^image pull: blob sha256:[0-9a-f]{64}: .* after \d+ of \d+ bytes$/);
    expect(value(outcome, 'always_status')).toBe('1');
    expect(value(outcome, 'after_always')).toBe('0');
    expect(value(outcome, 'once')).toMatch(/^Pulled 127\.0\.0\.1:5003\/test\/two-layer:v1/);
    expect(value(outcome, 'killed_left')).toBe('1');
    expect(value(outcome, 'clean')).toMatch(/half-pulled layers in .*: +removed half-pulled layer .*\.partial-[0-9a-f]{12}-\d+ /);
    expect(value(outcome, 'after_clean')).toBe('0');
  });
});
