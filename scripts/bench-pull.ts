// npm run bench:pull: what `npm run image -- pull` costs on a big layer, next to skopeo.
//   sudo npm run bench:pull [-- --mb 200]
// In a throwaway sandbox (its own network, mount and PID namespaces, a tmpfs): a registry
// on 127.0.0.1 (Debian's docker-registry, as the tests run it: test/harness/registry.ts),
// an image of one layer holding one file of random bytes (gzip cannot shrink it), then
// rounds of `skopeo copy` to a dir: (download and write the blob) and of our pull
// (download, check, gunzip and unpack it). It prints the pull's peak memory (max RSS,
// measured by the pulling process itself as it exits) and both throughputs, best of
// three each; then the same with V8 collecting garbage sooner. The bar: under
// 100 MB RSS, within 2x of skopeo. A plain node:http download that only counts its
// bytes peaks at ~150 MB here: the chunks wait for V8's next collection.
import { mkdirSync, mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { $ } from 'zx/core';
import { MNT_DETACH, umount2 } from '../shared/kernel/libc.ts';
import { REGISTRY_FUNCTIONS, registryTools } from '../test/harness/registry.ts';
import { fail, messageOf, parseCommandLine, usageError } from './lib/cli.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const USAGE = 'usage: npm run bench:pull -- [--mb 200]';
const INSIDE = 'CFS_BENCH_NAMESPACE'; // set once the bench runs in its own namespaces
const IMAGE = '127.0.0.1:5000/bench/big:v1';

const { values } = parseCommandLine(USAGE, { options: { mb: { type: 'string', default: '200' } } });
const MB = Number(values.mb);
if (!(MB >= 1)) usageError(USAGE);
if (process.getuid?.() !== 0) fail('The bench makes namespaces and mounts: sudo npm run bench:pull');
$.cwd = REPO;

if (!process.env[INSIDE]) {
  // The registry's binary first, out here: the sandbox has no network to download it.
  try {
    registryTools();
  } catch (error) {
    fail(`bench:pull: ${messageOf(error)}`);
  }
  // This script again, in the sandbox: PID 1 of its own PID namespace (--kill-child: it
  // ends with us, and the registry with it), the mounts private, a network of its own.
  const sandbox = ['--mount', '--pid', '--net', '--fork', '--kill-child', '--mount-proc', '--propagation', 'private'];
  const bench = await $({ stdio: 'inherit', nothrow: true, env: { ...process.env, [INSIDE]: '1' } })`unshare ${sandbox} ${[
    process.execPath,
    import.meta.filename,
    ...process.argv.slice(2),
  ]}`;
  process.exit(bench.exitCode ?? 1);
}

// The pull reports its own peak memory and time (from its start, npm's own left out): a
// module preloaded into its Node, through NODE_OPTIONS (npm's Node too: only the one that
// runs scripts/image.ts speaks), run as it exits.
const PEAK = `data:text/javascript,${encodeURIComponent(
  "if (process.argv[1]?.endsWith('image.ts')) process.on('exit', () => process.stderr.write(" +
    "'maxrss_kb=' + process.resourceUsage().maxRSS + '\\npull_s=' + performance.now() / 1000 + '\\n'))",
)}`; // encoded: Node 20 (running npm, say) would end the code at its "?"
// The same pull with V8 told to collect garbage sooner: most of the pull's memory is
// chunks already read (outside V8's heap), which V8 frees late by default.
const TUNED = ['--max-old-space-size=24', '--external-memory-accounted-in-global-limit'];

interface Figures {
  skopeo: number[]; // seconds
  pull: { seconds: number; maxrssKb: number }[];
  tuned: { seconds: number; maxrssKb: number }[];
}

try {
  const figures = await bench();
  report(figures);
} catch (error) {
  fail(`bench:pull: ${messageOf(error)}`);
}

async function bench(): Promise<Figures> {
  const registry = registryTools(); // downloaded already, outside the sandbox
  const d = mkdtempSync(path.join(tmpdir(), 'cfs-bench-pull-'));
  process.on('exit', () => {
    // The tmpfs ends with the mount namespace, but the folder would stay on the machine.
    try {
      umount2(d, MNT_DETACH);
    } catch {
      // never mounted: the mount failed
    }
    rmdirSync(d);
  });
  await $`mount -t tmpfs bench ${d}`;
  await $`mount -t tmpfs bench-run /run`; // the runtime's locks: ours alone
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SANDBOX_DIR: d,
    CONTAINERFS: `${d}/rootfs`,
    CONTAINER_STATE: `${d}/state`,
    REGISTRY_BIN: registry,
  };
  delete env[INSIDE];
  // The registry, as the tests start it: their bash functions (test/harness/registry.ts),
  // which wait on state (test/harness/wait.sh).
  await $({ env, input: `source test/harness/wait.sh\n${REGISTRY_FUNCTIONS}\nstart_registry 5000\n` })`bash`;

  const layer = `${d}/layer`;
  mkdirSync(layer);
  await $`head -c ${MB}M /dev/urandom >${layer}/random.bin`;
  await $`tar -cf ${d}/layer.tar -C ${layer} .`;
  await $`rm -r ${layer}`;
  await $`umoci init --layout ${d}/oci`;
  await $`umoci new --image ${d}/oci:big`;
  await $`umoci raw add-layer --image ${d}/oci:big ${d}/layer.tar`;
  await $`rm ${d}/layer.tar`;
  await $`skopeo copy --quiet --dest-tls-verify=false oci:${d}/oci:big docker://${IMAGE}`;
  await $`rm -r ${d}/oci`;

  const figures: Figures = { skopeo: [], pull: [], tuned: [] };
  const peak = { ...env, NODE_OPTIONS: `--import=${PEAK}` };
  for (let round = 1; round <= 3; round++) {
    const started = performance.now();
    await $`skopeo copy --quiet --src-tls-verify=false docker://${IMAGE} dir:${d}/skopeo`;
    figures.skopeo.push((performance.now() - started) / 1000);
    await $`rm -r ${d}/skopeo`;
    figures.pull.push(said(await $({ env: peak, quiet: true })`npm run -s image -- pull ${IMAGE}`));
    await $({ env, quiet: true })`npm run -s image -- rm ${IMAGE}`;
    const cache = path.join(REPO, 'node_modules/.cache/node-compile-cache');
    const tuned = { ...peak, NODE_COMPILE_CACHE: cache };
    figures.tuned.push(said(await $({ env: tuned, quiet: true })`${process.execPath} ${TUNED} scripts/image.ts pull ${IMAGE}`));
    await $({ env, quiet: true })`npm run -s image -- rm ${IMAGE}`;
  }
  return figures;
}

/** What PEAK made the pull say as it exited. */
function said(pull: { stderr: string }): { seconds: number; maxrssKb: number } {
  const figure = (key: string) => Number(new RegExp(`^${key}=([\\d.]+)$`, 'm').exec(pull.stderr)?.[1] ?? Number.NaN);
  return { seconds: figure('pull_s'), maxrssKb: figure('maxrss_kb') };
}

function report({ skopeo: skopeoTimes, pull: pulls, tuned: tunedPulls }: Figures): void {
  const best = (runs: { seconds: number }[]) => Math.min(...runs.map(({ seconds }) => seconds));
  const peak = (runs: { maxrssKb: number }[]) => Math.max(...runs.map(({ maxrssKb }) => maxrssKb));
  const [skopeo, pull, rss] = [Math.min(...skopeoTimes), best(pulls), peak(pulls)];
  const [tuned, tunedRss] = [best(tunedPulls), peak(tunedPulls)];
  const rate = (seconds: number) => `${(MB / seconds).toFixed(0)} MiB/s`;
  console.log(`a ${MB} MiB layer, best of 3:`);
  console.log(`  skopeo copy to dir:   ${skopeo.toFixed(2)} s  ${rate(skopeo)}`);
  console.log(`  npm run image -- pull: ${pull.toFixed(2)} s  ${rate(pull)}  (${(pull / skopeo).toFixed(2)}x skopeo's time; the bar: 2x)`);
  console.log(`  the pull's max RSS:    ${(rss / 1024).toFixed(0)} MiB (the bar: 100 MB)`);
  console.log(`  with node ${TUNED.join(' ')}:`);
  console.log(`    ${tuned.toFixed(2)} s  ${rate(tuned)}  (${(tuned / skopeo).toFixed(2)}x), max RSS ${(tunedRss / 1024).toFixed(0)} MiB`);
}
