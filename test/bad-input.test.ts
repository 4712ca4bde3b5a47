// Bad input, as a learner (or a script) may type it, for the steps and the tools. Every
// answer should be docker run's: ONE line on stderr that says what is wrong, status 2
// for bad usage and 125 when the runtime cannot go on (the tools: 1), nothing on stdout,
// never a stack trace, and nothing left behind (mounts, writable layers, cgroups).
// Each test states the right behaviour; one that fails documents a bug to fix.
import { readFileSync, rmdirSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { DEFAULT_CGROUP_PARENT as CGROUP_PARENT } from '../shared/runtime/config.ts';
import type { Step } from './expectations.ts';
import { inSandbox, SANDBOX_HOSTNAME, TIME_SCALE } from './sandbox.ts';

const NO_STACK_TRACE = /^\s+at |node:internal|Error: /m;

// Bash for the sandbox.
const HELPERS = String.raw`
export npm_config_logs_max=0 # npm writes no log file on the machine
# What a run may leave: container cgroups under this sandbox's CGROUP_PARENT (in any
# tree), writable layers, mounts under $CONTAINERFS. One line, empty when nothing is left.
leftovers() {
  {
    find /sys/fs/cgroup/$CGROUP_PARENT /sys/fs/cgroup/*/$CGROUP_PARENT -mindepth 1 -type d 2>/dev/null | sed 's/^/cgroup:/'
    find "$CONTAINER_STATE/containers" -mindepth 1 -maxdepth 1 2>/dev/null | sed 's/^/layer:/'
    awk -v d="$CONTAINERFS/" 'index($5, d) == 1 { print "mount:" $5 }' /proc/self/mountinfo
  } | tr '\n' ' '
}
# The sandbox's / read-only: a runtime told CONTAINERFS=/ must not write the machine's
# files, and if it tries, this stops it (the flag is this mount namespace's alone).
readonly_root() {
  mount -o remount,bind,ro / || return 1
  ! touch /.cfs-bad-input-probe 2>/dev/null
}
# The cgroup trees as this sandbox sees them: each one is its own subtree
# <tree>/$CGROUP_PARENT/jail, bound where the tree was (cgroupfs is the machine's: this
# way a runtime or npm run clean that takes "." for the tree's root only reaches the jail).
jail() {
  local trees t i=0 level=''
  trees=$(sed -n 's/^\([^ ]* \)\{4\}\([^ ]*\) .* - cgroup2\{0,1\} .*/\2/p' /proc/self/mountinfo)
  [ -n "$trees" ] && mkdir "$SANDBOX_DIR/cg" || return 1
  for t in $trees; do
    mkdir -p "$t/$CGROUP_PARENT/jail" "$SANDBOX_DIR/cg/$i" || return 1
    # cgroup v2: a controller reaches the jail only through each parent's subtree_control
    if [ -f "$t/cgroup.subtree_control" ]; then
      level=$t; for part in $(echo "$CGROUP_PARENT" | tr / ' '); do
        level=$level/$part; echo '+memory +pids +cpu' >"$level/cgroup.subtree_control" 2>/dev/null
      done
    fi
    mount --bind "$t/$CGROUP_PARENT/jail" "$SANDBOX_DIR/cg/$i" || return 1
    i=$((i + 1))
  done
  umount -l /sys/fs/cgroup || return 1
  [ "$trees" = /sys/fs/cgroup ] || mount -t tmpfs cgjail /sys/fs/cgroup || return 1
  i=0
  for t in $trees; do
    mkdir -p "$t" && mount --bind "$SANDBOX_DIR/cg/$i" "$t" && umount "$SANDBOX_DIR/cg/$i" || return 1
    i=$((i + 1))
  done
  # every cgroup tree in sight is a jail
  ! sed -n 's/^\([^ ]* \)\{3\}\([^ ]*\) .* - cgroup2\{0,1\} .*/\2/p' /proc/self/mountinfo | grep -qv '/jail$'
}
`;

interface Result {
  status: number | null; // the command's; null when the sandbox ran out of time
  stdout: string; // the command's
  stderr: string; // the command's (and the setup's, which stays quiet)
  marks: Record<string, string>; // "@@key=value" lines printed after it: left=, ...
}

/**
 * Run `command` (bash) in a sandbox of `step`, after `setup`; then `after` may print
 * "@@key=value" lines. The command's stdout and stderr are its own.
 */
async function probe(step: Step, command: string, { setup = '', after = '', timeoutMs = 30_000, jailed = false } = {}): Promise<Result> {
  const script = `${HELPERS}\n${setup}\n${command}\nstatus=$?\nprintf '\\n@@MARK\\n@@status=%s\\n' "$status"\necho "@@left=$(leftovers)"\n${after}\n`;
  const outcome = await inSandbox(script, { step, timeoutMs, ...inject('sandbox') });
  // The sandbox removes its $CGROUP_PARENT (the jails in it); the jail made its parent,
  // container-from-scratch, in every tree: remove it where empty, as a runtime does.
  if (jailed) removeEmptyCgroupTops();
  const at = outcome.stdout.lastIndexOf('\n@@MARK\n');
  const tail = at === -1 ? '' : outcome.stdout.slice(at);
  const marks = Object.fromEntries([...tail.matchAll(/^@@(\S+?)=(.*)$/gm)].map(([, key, value]) => [key!, value!]));
  return {
    status: marks.status === undefined ? null : Number(marks.status),
    stdout: at === -1 ? outcome.stdout : outcome.stdout.slice(0, at),
    stderr: outcome.stderr,
    marks,
  };
}

function removeEmptyCgroupTops(): void {
  for (const [, mountPoint, type] of readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))) {
    if (type !== 'cgroup' && type !== 'cgroup2') continue;
    try {
      rmdirSync(`${mountPoint}/${CGROUP_PARENT}`);
    } catch {
      // in use (a container of another sandbox), or not there
    }
  }
}

/** The runtime's own lines on stderr, less the article's "Running [...] as PID n". */
const runtimeLines = (stderr: string) => stderr.split('\n').filter((line) => line && !line.startsWith('Running ['));

/** Failed as docker run fails: `status`, one line on stderr matching `pattern`, no output, nothing left. */
function expectRefused(result: Result, status: number, pattern: RegExp, { left = true } = {}): void {
  expect(result.stderr, result.stderr).not.toMatch(NO_STACK_TRACE);
  expect(result.status, result.stderr).toBe(status);
  expect(runtimeLines(result.stderr), result.stderr).toEqual([expect.stringMatching(pattern)]);
  expect(result.stdout).toBe('');
  if (left) expect(result.marks.left, 'left behind').toBe('');
}

/** Worked: status 0, `stdout`, no line of the runtime's own, nothing left. */
function expectWorked(result: Result, stdout: string): void {
  expect(result.stderr, result.stderr).not.toMatch(NO_STACK_TRACE);
  expect(result.status, result.stderr).toBe(0);
  expect(result.stdout, result.stderr).toBe(stdout);
  expect(runtimeLines(result.stderr), result.stderr).toEqual([]);
  expect(result.marks.left, 'left behind').toBe('');
}

describe.concurrent('bad input: limit options (step 09)', () => {
  const step = '09-cgroups';

  it('npm run step:9 -- --memory (no value): status 2, one line', async () => {
    expectRefused(await probe(step, 'npm run --silent step:9 -- --memory'), 2, /--memory/);
  });

  it('--memory followed by the command: the command is not taken as the value and run', async () => {
    expectRefused(await probe(step, `run --memory sh -c 'echo ran'`), 2, /--memory/);
  });

  it('--memory -1: status 2, one line', async () => {
    expectRefused(await probe(step, 'run --memory -1 true'), 2, /--memory -1/);
  });

  it('--memory 99999999g: status 2, one line', async () => {
    expectRefused(await probe(step, 'run --memory 99999999g true'), 2, /--memory 99999999g/);
  });

  // docker refuses less than 6 MB; here the container's own PID 1 (node) needs ~16 MB.
  it('--memory 1 (one byte: nothing can start): refused before the start, status 2, one line', async () => {
    expectRefused(await probe(step, 'run --memory 1 true'), 2, /--memory/);
  });

  it('--pids 0 means no limit, as in docker: the command runs', async () => {
    expectWorked(await probe(step, `run --pids 0 sh -c 'echo ok'`), 'ok\n');
  });

  // Node, the container's PID 1, has ~7 threads: each counts against pids.max.
  it('--pids 1: refused with one line, status 2 (no crash of node inside)', async () => {
    expectRefused(await probe(step, `timeout -s KILL ${20 * TIME_SCALE} node "$REPO/steps/$STEP/main.ts" run --pids 1 true`), 2, /--pids/);
  });

  it('--pids 2: refused with one line, status 2 (no hang)', async () => {
    expectRefused(
      await probe(step, `timeout -s KILL ${20 * TIME_SCALE} node "$REPO/steps/$STEP/main.ts" run --pids 2 true`, { timeoutMs: 40_000 }),
      2,
      /--pids/,
    );
  });

  it('--cpus 1000 (more than the machine has): status 2, one line', async () => {
    expectRefused(await probe(step, 'run --cpus 1000 true'), 2, /--cpus 1000/);
  });

  it('--cpus abc: status 2, one line', async () => {
    expectRefused(await probe(step, 'run --cpus abc true'), 2, /--cpus abc/);
  });

  it('--foo (unknown option): status 2, one line naming it', async () => {
    expectRefused(await probe(step, 'run --foo true'), 2, /--foo/);
  });
});

describe.concurrent('bad input: published ports (step 12)', () => {
  const step = '12-bridge';
  const links = `echo "@@links=$(ip -o link show | grep -c ': cfs-')"`;

  for (const port of ['notaport', '70000:80', '8080:0', '8080:80/sctp']) {
    it(`-p ${port}: status 2, one line naming it`, async () => {
      expectRefused(await probe(step, `run -p ${port} sh -c 'echo ran'`), 2, new RegExp(`^bad option -p ${port}: `));
    });
  }

  it('-p 80 (a container port alone): a free host port, said in one line on stderr; the command runs', async () => {
    const result = await probe(step, `run -p 80 sh -c 'echo ran'`);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe('ran\n');
    expect(runtimeLines(result.stderr)).toEqual(['Published 0.0.0.0:32768->80/tcp']);
    expect(result.marks.left).toBe('');
  });

  it('-p 8080:80 with a program of the host on port 8080: status 125, one line, nothing left', async () => {
    const setup = String.raw`busybox nc -l -p 8080 >/dev/null & wait_until 'the host program on 8080' listening 8080`;
    const result = await probe(step, `run -p 8080:80 sh -c 'echo ran'`, { setup, after: links });
    expectRefused(result, 125, /^0\.0\.0\.0:8080->80\/tcp: port 8080\/tcp is in use on this host$/);
    expect(result.marks.links).toBe('0');
  });
});

describe.concurrent('bad input: image options (step 10)', () => {
  const step = '10-overlay';

  for (const name of ['../x', 'UPPER', 'a,b']) {
    it(`--image ${name}: status 2, one line naming it`, async () => {
      expectRefused(await probe(step, `run --image '${name}' true`), 2, new RegExp(`--image ${name.replace(/[.]/g, '\\.')}`));
    });
  }

  it('--image of an image that does not exist: status 125, one line, nothing left', async () => {
    expectRefused(await probe(step, 'run --image nosuch true'), 125, /nosuch/);
  });

  it('--keep=false: the writable layer is NOT kept', async () => {
    expectWorked(await probe(step, `run --keep=false sh -c 'echo ok'`), 'ok\n');
  });

  it('--keep=maybe: status 2, one line (a switch takes no such value)', async () => {
    expectRefused(await probe(step, 'run --keep=maybe true'), 2, /--keep/);
  });
});

describe.concurrent('bad input: CONTAINERFS, CONTAINER_STATE, CGROUP_PARENT', () => {
  it('CONTAINERFS is a file: status 125, one line', async () => {
    const result = await probe('06-mount-ns', 'run true', { setup: 'touch "$SANDBOX_DIR/afile"; export CONTAINERFS="$SANDBOX_DIR/afile"' });
    expectRefused(result, 125, /not a directory|ENOTDIR/i);
  });

  it('CONTAINERFS is an empty read-only directory: status 125, one line that says read-only', async () => {
    const setup = 'mkdir "$SANDBOX_DIR/ro" && mount -t tmpfs -o ro ro "$SANDBOX_DIR/ro" && export CONTAINERFS="$SANDBOX_DIR/ro"';
    expectRefused(await probe('06-mount-ns', 'run true', { setup }), 125, /read-only|EROFS/i);
  });

  it('CONTAINERFS is a complete root filesystem, mounted read-only: it works (an image is only read)', async () => {
    const setup =
      'mkdir "$SANDBOX_DIR/robuilt" && mount --bind -o ro "$CONTAINERFS" "$SANDBOX_DIR/robuilt" && export CONTAINERFS="$SANDBOX_DIR/robuilt"';
    expectWorked(await probe('06-mount-ns', `run sh -c 'echo ok'`, { setup }), 'ok\n');
  });

  // The host's root as the container's: the runtime would "complete" it as a root
  // filesystem (applets in /usr/bin, chmod 1777 /tmp, ...). The sandbox's / is read-only
  // here, so a runtime that tries gets EROFS: it must refuse before it writes anything.
  it('CONTAINERFS=/: refused before anything is written, status 125, one line', async () => {
    const result = await probe('06-mount-ns', `run sh -c 'echo ran'`, { setup: 'readonly_root || exit 99; export CONTAINERFS=/' });
    expectRefused(result, 125, /./);
    expect(result.stderr).not.toMatch(/EROFS|read-only/i);
  });

  it('CONTAINERFS=/ npm run rootfs: refused before anything is written, one line', async () => {
    const result = await probe('06-mount-ns', 'npm run --silent rootfs', { setup: 'readonly_root || exit 99; export CONTAINERFS=/' });
    expectRefused(result, 1, /./);
    expect(result.stderr).not.toMatch(/EROFS|read-only/i);
  });

  it('CONTAINERFS=relative/path (step 10): works, relative to the current directory', async () => {
    const result = await probe(
      '10-overlay',
      `(cd "$SANDBOX_DIR" && CONTAINERFS=rootfs node "$REPO/steps/$STEP/main.ts" run sh -c 'echo ok')`,
    );
    expectWorked(result, 'ok\n');
  });

  // Step 05 leaves its /proc mount on the host by design; npm run clean removes it.
  it('CONTAINERFS with a trailing slash (step 05): npm run clean still removes the proc mounts', async () => {
    const command = `{ CONTAINERFS="$CONTAINERFS/" run sh -c 'echo ok' && CONTAINERFS="$CONTAINERFS/" node scripts/clean.ts >/dev/null; }`;
    const result = await probe('05-chroot-proc', command);
    expectWorked(result, 'ok\n');
  });

  it('CONTAINER_STATE is a file (step 10): status 125, one line', async () => {
    const result = await probe('10-overlay', 'run true', {
      setup: 'touch "$SANDBOX_DIR/afile"; export CONTAINER_STATE="$SANDBOX_DIR/afile"',
    });
    expectRefused(result, 125, /not a directory|ENOTDIR/i);
  });

  it('CONTAINER_STATE=relative/path (step 10): works, relative to the current directory', async () => {
    const result = await probe(
      '10-overlay',
      `(cd "$SANDBOX_DIR" && CONTAINER_STATE=state node "$REPO/steps/$STEP/main.ts" run sh -c 'echo ok')`,
    );
    expectWorked(result, 'ok\n');
  });

  // overlayfs takes ":" in lowerdir as a separator: the path must be escaped.
  // overlayfs reads ":" in lowerdir as a separator: the runtime refuses such a path.
  it('CONTAINER_STATE with a ":" in its path (step 10): status 125, one line', async () => {
    const setup = 'mkdir "$SANDBOX_DIR/st:ate" && export CONTAINER_STATE="$SANDBOX_DIR/st:ate"';
    expectRefused(await probe('10-overlay', `run sh -c 'echo ok'`, { setup }), 125, /CONTAINER_STATE=.*no spaces, commas, colons/);
  });

  // CONTAINER_STATE=/var/tmp: a directory of others (1777, their files) is not made 0711,
  // and npm run clean deletes nothing in it.
  it("CONTAINER_STATE names a directory of others' (step 10): 125, one line; its mode kept, clean leaves it alone", async () => {
    const setup = String.raw`d="$SANDBOX_DIR/vartmp"; mkdir -m 1777 "$d"; mkdir -p "$d/containers/0123456789ab"; touch "$d/someones"
      export CONTAINER_STATE="$d"`;
    const after = String.raw`echo "@@mode=$(stat -c %a "$CONTAINER_STATE")"
      node scripts/clean.ts >/dev/null; echo "@@kept=$(ls "$CONTAINER_STATE/containers")"`;
    const result = await probe('10-overlay', `run sh -c 'echo ran'`, { setup, after });
    expectRefused(result, 125, /^CONTAINER_STATE=.*vartmp: holds what is not the runtime's/, { left: false });
    expect(result.marks.mode).toBe('1777');
    expect(result.marks.kept).toBe('0123456789ab');
  });

  for (const parent of ['../escape', '/abs']) {
    it(`CGROUP_PARENT=${parent}: status 125, one line (no stack trace)`, async () => {
      expectRefused(await probe('09-cgroups', `CGROUP_PARENT=${parent} run true`), 125, /CGROUP_PARENT/);
    });
  }

  it('CGROUP_PARENT=../escape npm run clean: status 1, one line (no stack trace)', async () => {
    expectRefused(await probe('09-cgroups', 'CGROUP_PARENT=../escape node scripts/clean.ts'), 1, /CGROUP_PARENT/);
  });

  // "." is the tree's root: the container's cgroup would go there, outside
  // container-from-scratch/. Tried in a jail (see jail above).
  it("CGROUP_PARENT=. (the cgroup tree's root): status 125, one line", async () => {
    const result = await probe('09-cgroups', `CGROUP_PARENT=. run sh -c 'echo ran'`, { setup: 'jail || exit 99', jailed: true });
    expectRefused(result, 125, /CGROUP_PARENT/, { left: false });
  });

  // npm run clean removes every EMPTY cgroup under $CGROUP_PARENT: with "." that is every
  // empty cgroup of the machine (systemd's too). Tried in a jail, with one to keep.
  it('CGROUP_PARENT=. npm run clean: refused (status 1, one line); a cgroup not ours stays', async () => {
    const setup = String.raw`jail || exit 99
      for t in $(sed -n 's/^\([^ ]* \)\{4\}\([^ ]*\) .* - cgroup2\{0,1\} .*/\2/p' /proc/self/mountinfo); do mkdir "$t/other-service"; done`;
    const after = String.raw`echo "@@others=$(ls -d /sys/fs/cgroup/other-service /sys/fs/cgroup/*/other-service 2>/dev/null | wc -l)"
      echo "@@trees=$(sed -n 's/^\([^ ]* \)\{4\}\([^ ]*\) .* - cgroup2\{0,1\} .*/\2/p' /proc/self/mountinfo | wc -l)"`;
    const result = await probe('09-cgroups', 'CGROUP_PARENT=. node scripts/clean.ts', { setup, after, jailed: true });
    expectRefused(result, 1, /CGROUP_PARENT/, { left: false });
    expect(result.marks.others, 'other-service removed').toBe(result.marks.trees);
  });
});

describe.concurrent('bad input: arguments (big, not UTF-8, with a newline, empty)', () => {
  it('200 KB of arguments (2000 of 100 bytes, step 10): all reach the command', async () => {
    const setup = String.raw`args=(); a=$(printf 'a%.0s' $(seq 100)); for _ in $(seq 2000); do args+=("$a"); done`;
    const result = await probe('10-overlay', String.raw`run sh -c 'echo "$# $(printf %s "$@" | wc -c)"' sh "${'$'}{args[@]}"`, { setup });
    expectWorked(result, '2000 200000\n');
  });

  // Node decodes its arguments as UTF-8: \xff becomes U+FFFD (ef bf bd). Either the bytes
  // reach the command as they were, or the runtime says it cannot pass them: never a
  // silently different argument.
  it("a non-UTF-8 argument ($'\\xff\\xfe', step 06): reaches the command unchanged, or is refused in one line", async () => {
    const result = await probe('06-mount-ns', String.raw`run sh -c 'printf %s "$1" | od -An -tx1 | tr -d " \n"; echo' sh $'\xff\xfe'`);
    expect(result.stderr).not.toMatch(NO_STACK_TRACE);
    if (result.status === 0) expect(result.stdout).toBe('fffe\n');
    else expectRefused(result, 125, /UTF-8|argument/i);
  });

  it("an argument with a newline (step 06): the runtime's own lines stay one line each", async () => {
    const result = await probe('06-mount-ns', String.raw`run sh -c 'echo "$1" | wc -l' sh $'a\nb'`);
    expectWorked(result, '2\n'); // a stray "b] as PID 1" is a line of the runtime's
  });

  it('a command whose name has a newline (step 06): status 127, one line', async () => {
    expectRefused(await probe('06-mount-ns', String.raw`run $'no\nsuch'`), 127, /command not found/);
  });

  it("an empty command name '' (step 06): status 127, one line, as docker run", async () => {
    expectRefused(await probe('06-mount-ns', `run ''`), 127, /command not found/);
  });
});

describe.concurrent('bad input: closed and full standard streams', () => {
  it('stdin closed (<&-, step 09): the command reads end-of-file', async () => {
    expectWorked(await probe('09-cgroups', `run sh -c 'cat; echo "eof=$?"' <&-`), 'eof=0\n');
  });

  it('stdout closed (>&-, step 09): the command runs, status 0, no error of the runtime', async () => {
    const result = await probe('09-cgroups', `run sh -c 'echo hi; echo done >&2' >&-`);
    expect(result.stderr).not.toMatch(NO_STACK_TRACE);
    expect(result.status, result.stderr).toBe(0);
    expect(runtimeLines(result.stderr)).toEqual(['done']);
    expect(result.marks.left).toBe('');
  });

  it("stdout to /dev/full (step 09): the command's own write error and status (1), none of the runtime's", async () => {
    const result = await probe('09-cgroups', `run sh -c 'echo hi' >/dev/full`);
    expect(result.stderr).not.toMatch(NO_STACK_TRACE);
    expect(result.status, result.stderr).toBe(1);
    expect(runtimeLines(result.stderr).filter((line) => !/write error|I\/O error/.test(line))).toEqual([]);
    expect(result.marks.left).toBe('');
  });

  // The runtime's "Running [...]" line cannot be written: that is no reason not to run.
  it("stderr to /dev/full (step 06): the command still runs, and its status is the runtime's", async () => {
    const result = await probe('06-mount-ns', `run sh -c 'echo hi' 2>/dev/full`);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('hi\n');
  });
});

describe.concurrent('bad input: npm run image (step 10)', () => {
  const step = '10-overlay';
  const images = 'echo "@@images=$(find "$CONTAINER_STATE/images" -mindepth 1 2>/dev/null | tr "\\n" " ")"';

  it('import of a file that does not exist: status 1, one line, no image', async () => {
    const result = await probe(step, 'npm run --silent image -- import foo "$SANDBOX_DIR/nope.tar"', { after: images });
    expectRefused(result, 1, /nope\.tar/);
    expect(result.marks.images).toBe('');
  });

  it('import of a file that is not a tarball: status 1, one line, nothing half-made left', async () => {
    const result = await probe(step, 'npm run --silent image -- import foo "$SANDBOX_DIR/notar.tar"', {
      setup: 'echo hello >"$SANDBOX_DIR/notar.tar"',
      after: images,
    });
    expectRefused(result, 1, /notar\.tar/);
    expect(result.marks.images).toBe('');
  });

  for (const name of ['UPPER', '../x', 'a,b']) {
    it(`import with the bad name ${name}: status 2, one line, no image`, async () => {
      const result = await probe(step, `npm run --silent image -- import '${name}' "$SANDBOX_DIR/ok.tar"`, {
        setup: 'tar -C "$CONTAINERFS" -cf "$SANDBOX_DIR/ok.tar" .',
        after: images,
      });
      expectRefused(result, 2, /name/);
      expect(result.marks.images).toBe('');
    });
  }

  it('import as busybox (the built-in image): status 2, one line', async () => {
    const result = await probe(step, 'npm run --silent image -- import busybox "$SANDBOX_DIR/ok.tar"', {
      setup: 'tar -C "$CONTAINERFS" -cf "$SANDBOX_DIR/ok.tar" .',
      after: images,
    });
    expectRefused(result, 2, /busybox/);
    expect(result.marks.images).toBe('');
  });

  // Archives that would write outside the image: each refused, nothing written outside.
  const UNSAFE = String.raw`
    a="$SANDBOX_DIR/a"; mkdir -p "$a/b" "$a/s/real" "$SANDBOX_DIR/outside"; echo evil >"$a/evil"; echo evil >"$a/s/real/file"
    tar -cPf "$SANDBOX_DIR/dotdot.tar" -C "$a/b" ../evil
    tar -cPf "$SANDBOX_DIR/absolute.tar" "$a/evil"
    ln -s "$SANDBOX_DIR/outside" "$a/s/link"
    tar -cf "$SANDBOX_DIR/symlink.tar" -C "$a/s" link && tar -rf "$SANDBOX_DIR/symlink.tar" -C "$a/s" --transform 's,^real,link,' real/file`;
  const outside = `${images}; echo "@@outside=$(ls -A "$SANDBOX_DIR/outside" | wc -l)"
    echo "@@evil=$(find "$SANDBOX_DIR" \\( -name evil -o -name file \\) -not -path "$SANDBOX_DIR/a/*" | wc -l)"`;
  for (const [file, why] of [
    ['dotdot', /\.\.\/evil: "\.\." would lead outside the image/],
    ['symlink', /link\/file: goes through the symlink link/],
  ] as const) {
    it(`import of a tarball with ${file === 'dotdot' ? '../evil' : 'a symlink, then a file through it'}: status 1, one line, nothing outside`, async () => {
      const result = await probe(step, `npm run --silent image -- import bad "$SANDBOX_DIR/${file}.tar"`, {
        setup: UNSAFE,
        after: outside,
      });
      expectRefused(result, 1, why);
      expect(result.marks.images).toBe('');
      expect(result.marks.outside).toBe('0');
      expect(result.marks.evil).toBe('0');
    });
  }

  // As docker and containerd take them: inside the image, as if it were / (umoci insert
  // writes an entry named "/"; a tarball made with tar -P has absolute names).
  it('import of a tarball with an entry "/" and absolute names: they land inside the image', async () => {
    const result = await probe(step, `npm run --silent image -- import rooted "$SANDBOX_DIR/rooted.tar"`, {
      setup: `${UNSAFE}; tar -cPf "$SANDBOX_DIR/rooted.tar" --no-recursion / && tar -rPf "$SANDBOX_DIR/rooted.tar" "$a/evil"`,
      after: String.raw`echo "@@inside=$(cat "$CONTAINER_STATE/images/rooted$a/evil")"
        echo "@@evil=$(find "$SANDBOX_DIR" -name evil -not -path "$SANDBOX_DIR/a/*" -not -path "$CONTAINER_STATE/*" | wc -l)"`,
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.marks.inside).toBe('evil');
    expect(result.marks.evil).toBe('0');
  });

  it('rm of an image that does not exist: status 1, one line', async () => {
    expectRefused(await probe(step, 'npm run --silent image -- rm nosuch'), 1, /nosuch/);
  });

  it('list to /dev/full: not a silent success (status 1, one line)', async () => {
    expectRefused(await probe(step, 'npm run --silent image -- list >/dev/full'), 1, /./);
  });
});

describe.concurrent('bad input: npm run diff', () => {
  const step = '10-overlay';

  it('diff -- 99: status 2, one line that names step 99 (not 98)', async () => {
    const result = await probe(step, 'npm run --silent diff -- 99');
    expectRefused(result, 2, /\b99\b/);
    expect(result.stderr).not.toMatch(/\b98\b/);
  });

  it('diff -- a b c: the usage line, status 2', async () => {
    expectRefused(await probe(step, 'npm run --silent diff -- a b c'), 2, /^usage: /);
  });

  it('diff -- 4 5 to /dev/full: not a silent success (status 1, one line)', async () => {
    expectRefused(await probe(step, 'npm run --silent diff -- 4 5 >/dev/full'), 1, /./);
  });
});

// `child` is the runtime's internal verb: typed by hand it runs in the caller's own
// namespaces, which on a real machine are the host's (hostname, mount table, root).
describe.concurrent('bad input: the internal child verb typed by hand', () => {
  // Only bash builtins after it: should it pivot_root the sandbox, /usr/bin is gone.
  const before = String.raw`mapfile -t m </proc/self/mountinfo; mounts_before=$` + '{#m[@]}'; // bash's, not a template's
  const after = String.raw`echo "@@hostname=$(</proc/sys/kernel/hostname)"
    [ -e "$REPO/package.json" ] && echo "@@repo=visible" || echo "@@repo=gone"
    mapfile -t m </proc/self/mountinfo 2>/dev/null; echo "@@mounts=$mounts_before -> ${'$'}{#m[@]}"`;

  for (const step of ['03-hostname', '06-mount-ns'] as const) {
    it(`node steps/${step}/main.ts child sh -c ...: the usage line, status 2; the host's hostname and mounts untouched`, async () => {
      const result = await probe(step, `node "steps/${step}/main.ts" child sh -c 'echo ran'`, { setup: before, after });
      expectRefused(result, 2, /^child is internal: .*; usage: /, { left: false });
      expect(result.marks.hostname).toBe(SANDBOX_HOSTNAME);
      expect(result.marks.repo).toBe('visible');
      const [was, now] = result.marks.mounts!.split(' -> ');
      expect(now).toBe(was);
    });
  }

  // In a UTS namespace of its own, `child` used to pass its guard, then rename, make
  // mounts private and pivot_root the caller's own mount namespace before it failed.
  it('typed after `unshare --uts` (step 12): the usage line, status 2; mounts untouched', async () => {
    const command = `unshare --uts node steps/12-bridge/main.ts child --root="$CONTAINERFS" -- sh -c 'echo ran'`;
    const result = await probe('12-bridge', command, { setup: before, after });
    expectRefused(result, 2, /^child is internal: .*; usage: /, { left: false });
    expect(result.marks.repo).toBe('visible');
    const [was, now] = result.marks.mounts!.split(' -> ');
    expect(now).toBe(was);
  });
});

// NODE_OPTIONS can make any Node preload a module (--require) or open a debugger: the
// runtime's choice, never the container's first process's, which is Node too (steps 03+).
describe.concurrent("bad input: the caller's NODE_OPTIONS", () => {
  for (const step of ['04-pid', '08-user', '12-bridge'] as const) {
    it(`step ${step}: it does not reach the container's first process`, async () => {
      const setup = String.raw`echo 'process.pid === 1 && process.stderr.write("evil-in-pid-1\n")' >"$SANDBOX_DIR/evil.cjs"
        chmod 755 "$SANDBOX_DIR"; chmod 644 "$SANDBOX_DIR/evil.cjs"`;
      const command = `NODE_OPTIONS="--require=$SANDBOX_DIR/evil.cjs" run sh -c 'echo "$NODE_OPTIONS"; echo ok'`;
      expectWorked(await probe(step, command, { setup }), '\nok\n');
    });
  }
});

describe.concurrent('bad input: many at once, and npm run clean meanwhile', () => {
  // npm run clean "leaves running containers alone" (README): one that is starting too.
  it('npm run clean, again and again, while 20 containers of step 10 start: every one runs', {
    timeout: 120_000 * TIME_SCALE,
  }, async () => {
    const command = String.raw`{
      ( while [ ! -e "$SANDBOX_DIR/stop" ]; do node scripts/clean.ts >/dev/null 2>&1; done ) & cleaner=$!
      pids=()
      for i in $(seq 20); do
        (run sh -c 'echo "out-$0"' $i >"$SANDBOX_DIR/out-$i" 2>"$SANDBOX_DIR/err-$i"; echo $? >"$SANDBOX_DIR/status-$i") & pids+=($!)
        sleep 0.1 # the starts spread over the cleaner's loops
      done
      wait "${'$'}{pids[@]}"; touch "$SANDBOX_DIR/stop"; wait $cleaner; }`;
    const after = String.raw`for i in $(seq 20); do echo "@@result-$i=$(cat "$SANDBOX_DIR/out-$i")/$(cat "$SANDBOX_DIR/status-$i") $(grep -v '^Running' "$SANDBOX_DIR/err-$i" | head -1)"; done`;
    const result = await probe('10-overlay', command, { after, timeoutMs: 110_000 });
    for (let i = 1; i <= 20; i++) expect(result.marks[`result-${i}`], result.stderr).toBe(`out-${i}/0 `);
    expect(result.marks.left).toBe('');
  });

  // From another PID namespace the runtime's PID means nothing: its lock still tells.
  for (const [where, prefix] of [
    ['', ''],
    [' from another PID namespace', 'unshare --pid --fork --mount-proc '],
  ]) {
    it(`npm run clean${where} while a step 10 container runs: its layer and cgroup stay, it ends well`, async () => {
      const command = String.raw`{
        # the container goes on once clean is done: a line on its stdin
        mkfifo "$SANDBOX_DIR/go"
        run sh -c 'echo started; read -r _; echo more >/tmp/f && cat /tmp/f' <"$SANDBOX_DIR/go" >"$SANDBOX_DIR/o" 2>/dev/null & r=$!
        exec 3>"$SANDBOX_DIR/go"
        wait_until 'the container to start' has started "$SANDBOX_DIR/o"
        ${prefix}node scripts/clean.ts >/dev/null; echo >&3; exec 3>&-; wait $r; }`;
      const result = await probe('10-overlay', command, { after: 'echo "@@out=$(tr "\\n" " " <"$SANDBOX_DIR/o")"' });
      expect(result.status, result.stderr).toBe(0);
      expect(result.marks.out).toBe('started more ');
      expect(result.marks.left).toBe('');
    });
  }

  it("npm run clean while a step 05 container runs: the container's /proc stays mounted", async () => {
    const command = String.raw`{
      mkfifo "$SANDBOX_DIR/go"
      run sh -c 'echo started; read -r _; echo $(ls /proc | grep -c "^[0-9]")' <"$SANDBOX_DIR/go" >"$SANDBOX_DIR/o" 2>/dev/null & r=$!
      exec 3>"$SANDBOX_DIR/go"
      wait_until 'the container to start' has started "$SANDBOX_DIR/o"
      node scripts/clean.ts >/dev/null; echo >&3; exec 3>&-; wait $r; }`;
    const result = await probe('05-chroot-proc', command, { after: 'echo "@@processes=$(tail -1 "$SANDBOX_DIR/o")"' });
    expect(result.status, result.stderr).toBe(0);
    expect(Number(result.marks.processes)).toBeGreaterThan(0);
  });
});
