// npm run bench:pull: what `npm run image -- pull` costs on a big layer, next to skopeo.
//   sudo npm run bench:pull [-- --mb 200]
// In a throwaway sandbox (its own network, mount and PID namespaces, a tmpfs): a registry
// on 127.0.0.1 (Debian's docker-registry, as the tests run it: test/registry.ts), an
// image of one layer holding one file of random bytes (gzip cannot shrink it), then
// rounds of `skopeo copy` to a dir: (download and write the blob) and of our pull
// (download, check, gunzip and unpack it). It prints the pull's peak memory (max RSS,
// measured by the pulling process itself as it exits) and both throughputs, best of
// three each; then the same with V8 collecting garbage sooner. The bar: under
// 100 MB RSS, within 2x of skopeo. A plain node:http download that only counts its
// bytes peaks at ~150 MB here: the chunks wait for V8's next collection.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { REGISTRY_FUNCTIONS, registryTools } from '../test/registry.ts';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '200' } } });
const MB = Number(values.mb);
if (process.getuid?.() !== 0) fail('The bench makes namespaces and mounts: sudo npm run bench:pull');
if (!(MB >= 1)) fail('usage: npm run bench:pull -- [--mb 200]');
let registry: string;
try {
  registry = registryTools();
} catch (error) {
  fail((error as Error).message);
}

// The pull reports its own peak memory and time (from its start, npm's own left out): a
// module preloaded into its Node, through NODE_OPTIONS (npm's Node too: only the one that
// runs scripts/image.ts speaks), run as it exits.
const PEAK = [
  "data:text/javascript,if(process.argv[1]?.endsWith('image.ts'))process.on('exit',()=>process.stderr.write(",
  "'maxrss_kb='+process.resourceUsage().maxRSS+String.fromCharCode(10)+'pull_s='+performance.now()/1000+String.fromCharCode(10)))",
].join('');
// The same pull with V8 told to collect garbage sooner: most of the pull's memory is
// chunks already read (outside V8's heap), which V8 frees late by default.
const TUNED = '--max-old-space-size=24 --external-memory-accounted-in-global-limit';
const script = String.raw`
set -e
d=$(mktemp -d); mount -t tmpfs bench "$d"; mount -t tmpfs bench-run /run
export SANDBOX_DIR=$d CONTAINERFS=$d/rootfs CONTAINER_STATE=$d/state REGISTRY_BIN=${registry}
${REGISTRY_FUNCTIONS}
start_registry 5000
mkdir "$d/layer"; head -c ${MB}M /dev/urandom >"$d/layer/random.bin"; tar -cf "$d/layer.tar" -C "$d/layer" .; rm -r "$d/layer"
umoci init --layout "$d/oci" && umoci new --image "$d/oci:big" && umoci raw add-layer --image "$d/oci:big" "$d/layer.tar" && rm "$d/layer.tar"
push "$d/oci:big" 5000/bench/big:v1
rm -r "$d/oci"
now() { date +%s.%N; }
for round in 1 2 3; do
  t=$(now); skopeo copy --quiet --src-tls-verify=false docker://127.0.0.1:5000/bench/big:v1 "dir:$d/skopeo"; echo "skopeo_s=$(echo "$(now) - $t" | bc)"
  rm -r "$d/skopeo"
  NODE_OPTIONS="--import=${PEAK}" npm run -s image -- pull 127.0.0.1:5000/bench/big:v1 2>&1 | grep -e maxrss -e pull_s
  npm run -s image -- rm 127.0.0.1:5000/bench/big:v1 2>/dev/null
  NODE_OPTIONS="--import=${PEAK}" NODE_COMPILE_CACHE=node_modules/.cache/node-compile-cache node ${TUNED} scripts/image.ts pull 127.0.0.1:5000/bench/big:v1 2>&1 | sed -n 's/^\(maxrss_kb\|pull_s\)=/tuned_\1=/p'
  npm run -s image -- rm 127.0.0.1:5000/bench/big:v1 2>/dev/null
done
`;
const bench = spawnSync(
  'unshare',
  ['--mount', '--pid', '--net', '--fork', '--kill-child', '--mount-proc', '--propagation', 'private', 'bash', '-c', script],
  {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
if (bench.status !== 0) fail(`the bench failed (status ${bench.status})\n${bench.stdout}`);
const figures = (key: string) => [...bench.stdout.matchAll(new RegExp(`^${key}=([\\d.]+)$`, 'gm'))].map(([, n]) => Number(n));
const [skopeo, pull, rss] = [Math.min(...figures('skopeo_s')), Math.min(...figures('pull_s')), Math.max(...figures('maxrss_kb'))];
const [tuned, tunedRss] = [Math.min(...figures('tuned_pull_s')), Math.max(...figures('tuned_maxrss_kb'))];
const rate = (seconds: number) => `${(MB / seconds).toFixed(0)} MiB/s`;
console.log(`a ${MB} MiB layer, best of 3:`);
console.log(`  skopeo copy to dir:   ${skopeo.toFixed(2)} s  ${rate(skopeo)}`);
console.log(`  npm run image -- pull: ${pull.toFixed(2)} s  ${rate(pull)}  (${(pull / skopeo).toFixed(2)}x skopeo's time; the bar: 2x)`);
console.log(`  the pull's max RSS:    ${(rss / 1024).toFixed(0)} MiB (the bar: 100 MB)`);
console.log(`  with node ${TUNED}:`);
console.log(`    ${tuned.toFixed(2)} s  ${rate(tuned)}  (${(tuned / skopeo).toFixed(2)}x), max RSS ${(tunedRss / 1024).toFixed(0)} MiB`);

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}
