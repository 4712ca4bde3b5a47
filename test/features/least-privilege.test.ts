// Least privilege, seen from outside: what root in the container keeps (docker's 14
// capabilities, no new privileges, a seccomp filter), its /dev and /proc, its own
// environment, the options that change them, and that ordinary work still goes on.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { stepsWhere } from '../course/expectations.ts';
import { attempt, expectRefused } from '../harness/attempt.ts';
import { START } from '../harness/background.ts';
import { value } from '../harness/outcome.ts';
import { REGISTRY_FUNCTIONS, registryTools } from '../harness/registry.ts';
import { inSandbox, type Outcome, TIME_SCALE } from '../harness/sandbox.ts';

// docker run's capabilities (shared/security/capabilities.ts), as /proc/<pid>/status shows them
const DOCKER_CAPS = '00000000a80425fb';
const NET_RAW = 1n << 13n;
const NET_ADMIN = 1n << 12n;
const CHOWN = 1n << 0n;
const hex = (mask: bigint) => mask.toString(16).padStart(16, '0');
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// Bash for the sandbox. "$STATUS", a command for the container's shell: the lines of
// /proc/self/status that say what a process may do, as key=value (CapBnd=00000000a80425fb ...).
const HELPERS = String.raw`
STATUS='grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):" /proc/self/status | tr -d "\t" | sed "s/:/=/"'
`;

/** The lines `$STATUS` printed, as an object: { CapBnd: '00000000a80425fb', ... }. */
function privileges(stdout: string, prefix = ''): Record<string, string | undefined> {
  const keys = ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp'];
  return Object.fromEntries(keys.map((key) => [key, stdout.match(new RegExp(`^${prefix}${key}=(.*)$`, 'm'))?.[1]]));
}

/** What docker's root keeps: `caps` in every set but the inheritable and ambient ones. */
const rootWith = (caps: string, { nnp = '1', seccomp = '2' } = {}) => ({
  CapInh: '0000000000000000',
  CapPrm: caps,
  CapEff: caps,
  CapBnd: caps,
  CapAmb: '0000000000000000',
  NoNewPrivs: nnp,
  Seccomp: seccomp,
});

/** The steps with least privilege: from the first whose command sees none of the runtime's variables. */
const leastPrivilegeSteps = stepsWhere('sees-runtime-env', false);

for (const step of leastPrivilegeSteps) {
  const sandbox = (script: string, timeoutMs = 30_000) => inSandbox(START + HELPERS + script, { step, timeoutMs, ...inject('sandbox') });

  describe.concurrent(`step ${step}: least privilege`, () => {
    it('builds the filters once, keeps them in the state directory, and builds them again when that copy is not whole', async () => {
      const outcome = await sandbox(String.raw`
        cache="$CONTAINER_STATE/seccomp"
        run grep Seccomp_filters /proc/self/status | awk '{print "first=" $2}'
        echo "kept=$(ls "$cache" | wc -l) programs=$(grep -o '"[A-Za-z0-9+/=]*"' "$cache"/*.json | wc -l)"
        echo '{}' >"$cache"/*.json
        run grep Seccomp_filters /proc/self/status | awk '{print "again=" $2}'
        echo "rebuilt=$(grep -c '^\[' "$cache"/*.json)"`);
      // three filters: the runtime's io_uring one, inherited, then the profile and docker's rules
      expect(value(outcome, 'first'), outcome.stderr).toBe('3');
      expect(value(outcome, 'kept')).toBe('1 programs=2');
      expect(value(outcome, 'again'), outcome.stderr).toBe('3');
      expect(value(outcome, 'rebuilt')).toBe('1');
    });

    it("root keeps docker's 14 capabilities, no new privileges, a filter; a /dev of its own; /proc's secrets masked", async () => {
      // The sandbox host holds a pty of its own open: the container's devpts must not show it.
      const outcome = await sandbox(String.raw`
        exec 4<>/dev/ptmx; echo "host_pts=$(ls /dev/pts | grep -c '^[0-9]')"
        echo "host_interrupts=$(wc -c </proc/interrupts)"
        run sh -c "$STATUS"'
          echo "dev=$(ls -A /dev | tr "\n" " ")"
          echo "links=$(for l in ptmx fd stdin stdout stderr; do printf "%s>%s " $l "$(readlink /dev/$l)"; done)"
          echo "types=$(stat -f -c %T /dev /dev/pts /dev/shm | tr "\n" " ")"
          echo "pts_before=$(ls -A /dev/pts | tr "\n" " ")"
          exec 3<>/dev/ptmx; echo "pts_after=$(ls -A /dev/pts | tr "\n" " ")"; exec 3>&-
          echo in-shm >/dev/shm/f && echo "shm=$(cat /dev/shm/f)"
          echo "devices=$(echo x >/dev/null && head -c 3 /dev/zero | wc -c)$(head -c 3 /dev/urandom | wc -c)"
          echo "masked=$(cat /proc/interrupts /proc/keys /proc/timer_list 2>/dev/null | wc -c)"
          echo 1 2>/dev/null >/proc/sys/net/ipv4/ip_forward; echo "proc_sys_write=$?"'`);
      expect(privileges(outcome.stdout), outcome.stdout + outcome.stderr).toEqual(rootWith(DOCKER_CAPS));
      expect(value(outcome, 'dev')).toBe('fd full null ptmx pts random shm stderr stdin stdout tty urandom zero ');
      expect(value(outcome, 'links')).toBe(
        'ptmx>pts/ptmx fd>/proc/self/fd stdin>/proc/self/fd/0 stdout>/proc/self/fd/1 stderr>/proc/self/fd/2 ',
      );
      expect(value(outcome, 'types')).toBe('tmpfs devpts tmpfs ');
      // its own devpts: the host's ptys are not there, and its first is its own number 0
      expect(Number(value(outcome, 'host_pts'))).toBeGreaterThan(0);
      expect(value(outcome, 'pts_before')).toBe('ptmx ');
      expect(value(outcome, 'pts_after')).toBe('0 ptmx ');
      expect(value(outcome, 'shm')).toBe('in-shm');
      expect(value(outcome, 'devices')).toBe('33');
      expect(Number(value(outcome, 'host_interrupts'))).toBeGreaterThan(0);
      expect(value(outcome, 'masked')).toBe('0');
      expect(value(outcome, 'proc_sys_write')).toBe('1'); // even its own network's knobs, as docker's
    });

    // The setuid program: a copy of /bin/attempt, root's, mode 4755, run as nobody
    // (busybox's nsenter -S/-G: su and its kin call setgroups, which a user namespace denies).
    it('a setuid-root program gains nothing; with --security-opt no-new-privileges=false it does', async () => {
      const SUID = String.raw`cp /bin/attempt /tmp/suid && chmod 4755 /tmp/suid && [ -u /tmp/suid ] && echo "setuid=$(stat -c %U /tmp/suid)"
        nsenter -S 65534 -G 65534 /tmp/suid euid`;
      const outcome = await sandbox(String.raw`
        run sh -c '${SUID}' | sed 's/^/default_/'
        run --security-opt no-new-privileges sh -c '${SUID}' | sed 's/^/true_/'
        run --security-opt no-new-privileges=false sh -c '${SUID}; '"$STATUS" | sed 's/^/false_/'`);
      expect(value(outcome, 'default_setuid'), outcome.stdout + outcome.stderr).toBe('root');
      expect(value(outcome, 'default_euid')).toBe('65534');
      expect(value(outcome, 'true_euid')).toBe('65534');
      expect(value(outcome, 'false_setuid')).toBe('root');
      expect(value(outcome, 'false_euid')).toBe('0');
      expect(privileges(outcome.stdout, 'false_')).toEqual(rootWith(DOCKER_CAPS, { nnp: '0' }));
    });

    it('ordinary work goes on: a pipe, ps, ping, servers on ports 80 and 8000, chown, its own processes; -p 8080:80 answers', async () => {
      const outcome = await sandbox(String.raw`
        start -p 8080:80 sh -c '
          echo "pipe=$(echo a | tr a b)"
          ps -o comm= >/tmp/ps; echo "ps=$(sort /tmp/ps | tr "\n" " ")"
          ping -c 1 -W ${2 * TIME_SCALE} 127.0.0.1 >/dev/null; echo "ping=$?"
          echo hello-inside >/tmp/index.html && httpd -p 80 -h /tmp && httpd -p 8000 -h /tmp
          echo "port_80=$(timeout ${5 * TIME_SCALE} wget -q -O - http://127.0.0.1:80/)"
          echo "port_8000=$(timeout ${5 * TIME_SCALE} wget -q -O - http://127.0.0.1:8000/)"
          touch /tmp/f && chown 1000:1000 /tmp/f; echo "chown=$(stat -c %u:%g /tmp/f)"
          sleep 1000 & echo "sibling=$(tr "\0" "\n" </proc/$!/environ | grep -c "^HOSTNAME=container-demo$")"; kill $!
          echo started; exec sleep 1000'
        echo "published=$(timeout ${5 * TIME_SCALE} busybox wget -q -O - http://127.0.0.1:8080/ 2>&1)"
        kill -TERM $runtime; wait $runtime; echo "status=$?"
        cat "$SANDBOX_DIR/out"`);
      expect(value(outcome, 'pipe'), outcome.stdout + outcome.stderr).toBe('b');
      // its PID 1 (the runtime's Node, named by its main thread), the shell, ps: none of the host's
      expect(value(outcome, 'ps')).toBe('MainThread ps sh ');
      expect(value(outcome, 'ping')).toBe('0'); // CAP_NET_RAW
      expect(value(outcome, 'port_80')).toBe('hello-inside'); // CAP_NET_BIND_SERVICE
      expect(value(outcome, 'port_8000')).toBe('hello-inside');
      expect(value(outcome, 'chown')).toBe('1000:1000'); // CAP_CHOWN
      // a process reads another's environ (ptrace's access check): its own processes, allowed
      expect(value(outcome, 'sibling')).toBe('1');
      expect(value(outcome, 'published')).toBe('hello-inside');
      expect(value(outcome, 'status')).toBe('143');
    });

    it('--cap-drop and --cap-add, as docker reads them: a name (any case, CAP_ or not), or ALL', async () => {
      const outcome = await sandbox(String.raw`
        bnd='grep ^CapBnd: /proc/self/status | cut -f2'
        run --cap-drop NET_RAW sh -c "echo net_raw_bnd=\$($bnd)"'
          ping -c 1 -W ${2 * TIME_SCALE} 127.0.0.1 >/dev/null 2>&1; echo "net_raw_ping=$?"'
        run sh -c 'ip link set lo mtu 1280 2>/dev/null; echo "default_mtu=$?"'
        run --cap-add NET_ADMIN sh -c "echo net_admin_bnd=\$($bnd)"'
          ip link set lo mtu 1280; echo "net_admin_mtu=$(ip -o link show lo | grep -o "mtu [0-9]*")"'
        run --cap-drop ALL sh -c "$STATUS"'; touch /tmp/f; chown 1000 /tmp/f 2>/dev/null; echo "chown=$?"' | sed 's/^/none_/'
        run --cap-drop all --cap-add cap_chown sh -c "echo chown_only_bnd=\$($bnd)"
        run --cap-add ALL sh -c "echo all_bnd=\$($bnd)"
        echo "last_cap=$(cat /proc/sys/kernel/cap_last_cap)"`);
      // every capability the kernel has, and docker names (CAP_CHECKPOINT_RESTORE, 40, the last)
      const last = BigInt(Math.min(Number(value(outcome, 'last_cap')), 40));
      expect(value(outcome, 'net_raw_bnd'), outcome.stdout + outcome.stderr).toBe(hex(BigInt(`0x${DOCKER_CAPS}`) & ~NET_RAW));
      expect(value(outcome, 'net_raw_ping')).toBe('1');
      expect(value(outcome, 'default_mtu')).not.toBe('0');
      expect(value(outcome, 'net_admin_bnd')).toBe(hex(BigInt(`0x${DOCKER_CAPS}`) | NET_ADMIN));
      expect(value(outcome, 'net_admin_mtu')).toBe('mtu 1280');
      expect(privileges(outcome.stdout, 'none_')).toEqual(rootWith('0000000000000000'));
      expect(value(outcome, 'none_chown')).toBe('1');
      expect(value(outcome, 'chown_only_bnd')).toBe(hex(CHOWN));
      expect(value(outcome, 'all_bnd')).toBe(hex((1n << (last + 1n)) - 1n));
    });

    // unshare -U needs no capability: only the default profile refuses it (unshare with CLONE_NEWUSER).
    it('--security-opt seccomp=unconfined: no filter; seccomp=<profile.json>: that profile, and only it', async () => {
      const outcome = await sandbox(String.raw`
        printf '%s\n' '{"defaultAction": "SCMP_ACT_ALLOW",' \
          ' "syscalls": [{"names": ["symlink", "symlinkat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}' >"$SANDBOX_DIR/no-symlinks.json"
        TRY='unshare -U true 2>/dev/null; echo "unshare=$?"; echo "ln=$(ln -s /x /tmp/link 2>&1 && echo made)"; '"$STATUS"
        run sh -c "$TRY" | sed 's/^/default_/'
        run --security-opt seccomp=unconfined sh -c "$TRY" | sed 's/^/unconfined_/'
        (cd "$SANDBOX_DIR" && run --security-opt seccomp=no-symlinks.json sh -c "$TRY") | sed 's/^/profile_/'`);
      expect(value(outcome, 'default_unshare'), outcome.stdout + outcome.stderr).toBe('1');
      expect(value(outcome, 'default_ln')).toBe('made');
      expect(privileges(outcome.stdout, 'default_')).toEqual(rootWith(DOCKER_CAPS));
      expect(value(outcome, 'unconfined_unshare')).toBe('0');
      expect(privileges(outcome.stdout, 'unconfined_')).toEqual(rootWith(DOCKER_CAPS, { seccomp: '0' }));
      expect(value(outcome, 'profile_unshare')).toBe('0'); // the default profile is gone
      expect(value(outcome, 'profile_ln')).toBe('ln: /tmp/link: Permission denied'); // the profile's errno, 13 (EACCES)
      expect(privileges(outcome.stdout, 'profile_')).toEqual(rootWith(DOCKER_CAPS));
    });

    // A profile may refuse what the command does; the runtime makes nothing the command's
    // directory needs when it exists already (runc installs the filter just before execve).
    it('seccomp=<profile.json> that refuses mkdir: the command runs, and only its mkdir fails', async () => {
      const outcome = await sandbox(String.raw`
        echo '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}' >"$SANDBOX_DIR/no-mkdir.json"
        run --security-opt seccomp="$SANDBOX_DIR/no-mkdir.json" sh -c 'mkdir /tmp/d 2>/dev/null; echo "mkdir=$?"; touch /tmp/f; echo "touch=$?"'
        echo "status=$?"`);
      expect(value(outcome, 'status'), outcome.stdout + outcome.stderr).toBe('0');
      expect(value(outcome, 'mkdir')).toBe('1');
      expect(value(outcome, 'touch')).toBe('0');
    });

    it("an environment of its own: the image's, -e, --env-file; never the runtime's; TERM only on a terminal", async () => {
      const outcome = await sandbox(String.raw`
        printf '# a comment\nFROM_FILE=file value\nBOTH=from-file\n\n' >"$SANDBOX_DIR/env"
        export HOST_SECRET=s npm_config_cache=/x npm_lifecycle_event=step:14 SUDO_USER=someone NODE_PATH=/x PASSED=from-runtime TERM=xterm-256color
        echo "env=$(run --env-file "$SANDBOX_DIR/env" -e A=1 -e 'B=two words' -e PASSED -e UNSET_ONE -e BOTH=from-e sh -c 'env | sort' | tr '\n' ' ')"
        echo 'node "$REPO/steps/$STEP/main.ts" run sh -c "echo term=\$TERM" 2>/dev/null' >"$SANDBOX_DIR/caller.sh"
        # on a terminal (script's pty), whose input stays open until it ends (at its end, script would type one)
        mkfifo "$SANDBOX_DIR/keys"
        TERM=dumb script -qefc "bash --norc $SANDBOX_DIR/caller.sh" /dev/null <"$SANDBOX_DIR/keys" >"$SANDBOX_DIR/screen" & term=$!
        exec 3>"$SANDBOX_DIR/keys"; wait $term; exec 3>&-
        tr -d '\r' <"$SANDBOX_DIR/screen" | grep -a '^term='`);
      expect(value(outcome, 'env'), outcome.stdout + outcome.stderr).toBe(
        `A=1 B=two words BOTH=from-e FROM_FILE=file value HOME=/root HOSTNAME=container-demo PASSED=from-runtime PATH=${DEFAULT_PATH} PWD=/ SHLVL=1 `,
      );
      expect(value(outcome, 'term')).toBe('xterm'); // docker run -t's
    });
  });

  describe.concurrent(`step ${step}: bad security options`, () => {
    const usage = [
      ['--cap-add NOPE', /^bad option --cap-add NOPE /],
      ['--cap-drop NOPE', /^bad option --cap-drop NOPE /],
      ['--security-opt seccomp', /^bad option --security-opt seccomp: /],
      ['--security-opt apparmor=x', /^bad option --security-opt apparmor=x: /],
      ['--security-opt no-new-privileges=maybe', /^bad option --security-opt no-new-privileges=maybe: /],
      ['--privileged', /^bad option --privileged: not in this course/],
      ['-e =x', /^bad option -e =x /],
    ] as const;
    for (const [option, line] of usage) {
      it(`${option}: status 2, one line naming it`, async () => {
        expectRefused(await attempt(step, `run ${option} sh -c 'echo ran'`), 2, line);
      });
    }

    // [what, the profile's text, the line]
    const profiles = [
      ['a profile that does not exist', '', /^cannot read the seccomp profile \/nonexistent\.json: ENOENT$/],
      ['a profile that is not JSON', 'not json', /\/p\.json: not JSON \(/],
      ['a profile without defaultAction', '{"syscalls": []}', /\/p\.json: not a seccomp profile in docker's format: no "defaultAction"$/],
      ['a profile with an unknown action', '{"defaultAction": "SCMP_ACT_NOPE"}', /\/p\.json: "SCMP_ACT_NOPE" is no action /],
    ] as const;
    for (const [what, text, line] of profiles) {
      it(`--security-opt seccomp=<${what}>: status 125, one line, nothing left`, async () => {
        const setup = text ? `echo '${text}' >"$SANDBOX_DIR/p.json"; profile="$SANDBOX_DIR/p.json"` : 'profile=/nonexistent.json';
        expectRefused(await attempt(step, `run --security-opt seccomp="$profile" sh -c 'echo ran'`, { setup }), 125, line);
      });
    }

    // What the machine lacks, hidden in the sandbox's own mount namespace (propagation private).
    it("without the distribution's profile: status 125, one line that names the package", async () => {
      const setup = 'mount -t tmpfs cfs-no-profile /usr/share/containers';
      const line = /^no seccomp profile at \/usr\/share\/containers\/seccomp\.json: sudo apt-get install golang-github-containers-common/;
      expectRefused(await attempt(step, `run sh -c 'echo ran'`, { setup }), 125, line);
    });

    it('without libseccomp: status 125, one line that names the package; unconfined still runs', async () => {
      const setup = `lib=$(readlink -f "$(ldconfig -p | awk '/libseccomp.so.2 /{print $NF; exit}')"); mount --bind /dev/null "$lib"`;
      expectRefused(
        await attempt(step, `run sh -c 'echo ran'`, { setup }),
        125,
        /^libseccomp is missing: sudo apt-get install libseccomp2$/,
      );
      const unconfined = await attempt(step, `run --security-opt seccomp=unconfined sh -c 'echo ran'`, { setup });
      expect(unconfined.status, unconfined.stderr).toBe(0);
      expect(unconfined.stdout).toBe('ran\n');
    });

    it('--env-file with a line that names no variable (=value): status 125, one line, nothing left', async () => {
      const setup = `echo '=value' >"$SANDBOX_DIR/env"`;
      expectRefused(
        await attempt(step, `run --env-file "$SANDBOX_DIR/env" sh -c 'echo ran'`, { setup }),
        125,
        /^--env-file .*\/env: .*=value$/,
      );
    });

    // Node itself reads --env-file among a script's arguments before a `--` (nodejs/node#54232):
    // run puts one first, as the npm scripts do.
    it('--env-file /nonexistent: status 125, one line naming it', async () => {
      expectRefused(await attempt(step, `run --env-file /nonexistent sh -c 'echo ran'`), 125, /^--env-file \/nonexistent: /);
    });
  });
}

// NODE_OPTIONS is the container's business,
// never the runtime's own Node's, as root on the host or as the container's PID 1 before
// it drops its privileges. The module named writes a file, where it can.
for (const step of leastPrivilegeSteps) {
  describe.concurrent(`step ${step}: the container's NODE_OPTIONS`, () => {
    // evil.cjs leaves ran-run (the runtime, root on the host) or ran-child (the container's
    // PID 1, before pivot_root) in a directory anyone may write
    const EVIL = String.raw`
      mkdir -m 1777 "$SANDBOX_DIR/drop"; chmod 755 "$SANDBOX_DIR"
      echo "require('fs').writeFileSync('$SANDBOX_DIR/drop/ran-' + process.argv[2], '')" >"$SANDBOX_DIR/evil.cjs"`;
    const after = 'echo "@@ran=$(ls "$SANDBOX_DIR/drop" | tr "\\n" " ")"';

    it('-e NODE_OPTIONS: it reaches the command, and runs in no Node of the runtime', async () => {
      const command = `run -e "NODE_OPTIONS=--require=$SANDBOX_DIR/evil.cjs" sh -c 'echo "$NODE_OPTIONS" | grep -c evil.cjs'`;
      const result = await attempt(step, command, { setup: EVIL, after });
      expect(result.stdout, result.stderr).toBe('1\n');
      expect(result.marks.ran).toBe('');
    });

    it('--env-file with NODE_OPTIONS: it reaches the command, and runs in no Node of the runtime', async () => {
      const setup = `${EVIL}\necho "NODE_OPTIONS=--require=$SANDBOX_DIR/evil.cjs" >"$SANDBOX_DIR/env"`;
      const command = `run --env-file "$SANDBOX_DIR/env" sh -c 'echo "$NODE_OPTIONS" | grep -c evil.cjs'`;
      const result = await attempt(step, command, { setup, after });
      expect(result.stdout, result.stderr).toBe('1\n');
      expect(result.marks.ran).toBe('');
    });
  });
}

// A pulled image with a User (test/harness/registry.ts's build_two_layer: 1000:1000,
// GREETING=hello). A registry is heavy: the last step only.
for (const step of leastPrivilegeSteps.slice(-1)) {
  describe.concurrent(`step ${step}: an image's User`, () => {
    let registryBin = '';
    beforeAll(() => {
      registryBin = registryTools(); // fails the tests, saying what is missing
    });
    const REF = '127.0.0.1:5000/test/user:v1';
    let run: Promise<Outcome> | undefined; // one sandbox, looked at by both tests
    const userImage = () =>
      (run ??= inSandbox(
        String.raw`REGISTRY_BIN=${registryBin}
        ${REGISTRY_FUNCTIONS}${HELPERS}
        start_registry 5000 && build_two_layer "$SANDBOX_DIR/oci" >/dev/null && push "$SANDBOX_DIR/oci:two" 5000/test/user:v1 || echo "setup failed"
        npm run -s image -- pull ${REF} >/dev/null 2>&1
        run --image ${REF} sh -c 'echo "id=$(id -u):$(id -g)"; echo "greeting=$GREETING"; echo "home=$HOME"; '"$STATUS"'
          httpd -p 80 -h /data 2>&1; echo "port_80=$?"' 2>/dev/null`,
        { step, timeoutMs: 60_000, ...inject('sandbox') },
      ));

    it("keeps no capability (its bounding set still docker's), no new privileges, the filter; HOME is its own", async () => {
      const outcome = await userImage();
      expect(value(outcome, 'id'), outcome.stdout + outcome.stderr).toBe('1000:1000');
      expect(value(outcome, 'greeting')).toBe('hello'); // the image's Env
      expect(value(outcome, 'home')).toBe('/'); // runc's: the user's in /etc/passwd, / without an entry
      expect(privileges(outcome.stdout)).toEqual({ ...rootWith('0000000000000000'), CapBnd: DOCKER_CAPS });
    });

    // docker sets ip_unprivileged_port_start to 0 in every container's own network namespace
    // (moby's daemon/oci_linux.go), so that a user other than root may serve on port 80.
    it('a user other than root may serve on port 80, as in docker', async () => {
      const outcome = await userImage();
      expect(value(outcome, 'port_80'), outcome.stdout + outcome.stderr).toBe('0');
    });
  });
}
