// One boot of the VM with QEMU: its command line, and a watch on its serial console,
// which is streamed to this terminal line by line. No network card, no disk: the VM's
// files are this machine's own, shared read-only over virtio-9p, and one folder,
// `results`, is shared writable for the statuses the VM reports.
import { spawn } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';

export type Accel = 'kvm' | 'tcg';

export interface BootOptions {
  accel: Accel;
  kernel: string; // vmlinuz
  initramfs: string;
  cmdline: string; // the kernel's command line
  results: string; // the writable folder, "results" in the VM
  bootTimeoutMs: number; // for the kernel to start /init
  runTimeoutMs: number; // for the whole run
}

type Ending =
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null; stderr: string }
  | { kind: 'no boot' } // /init did not start in time: killed
  | { kind: 'timeout' } // the run did not end in time: killed
  | { kind: 'stuck'; line: string } // the guest's kernel saw a CPU stuck for a minute: killed
  | { kind: 'interrupted'; signal: NodeJS.Signals }; // Ctrl-C, say: killed

export interface Boot {
  ending: Ending;
  bootedMs?: number; // when /init said its first line
  userlandMs?: number; // when stage 2 (scripts/vm/init.sh) said its first line
  endedMs: number;
}

// The first line of each stage (initramfs-init.sh, init.sh).
const STAGE_1 = 'cfs-vm: stage 1';
const STAGE_2 = 'cfs-vm: stage 2';

function qemuArgs({ accel, kernel, initramfs, cmdline, results }: BootOptions): string[] {
  return [
    // KVM runs the VM on the real CPU (-cpu host); TCG, QEMU's own translator, emulates
    // one (max: every feature it can), on a thread per CPU. Without protection keys (PKU),
    // which V8 uses for its JIT code where the CPU has them: the rows run 20-30 % faster. (It
    // was meant to stop a V8 crash under emulation too; it did not: test/course/matrix.ts.)
    ...(accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=multi', '-cpu', 'max,pku=off']),
    ...['-smp', '2', '-m', '3G', '-machine', 'q35'],
    // No default devices (network card, VGA, monitor): the serial port is the console.
    ...['-nodefaults', '-no-user-config', '-display', 'none', '-serial', 'stdio', '-no-reboot'],
    ...['-kernel', kernel, '-initrd', initramfs, '-append', cmdline],
    // multidevs=remap: / spans several filesystems here; keep their inode numbers apart.
    ...['-virtfs', 'local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap'],
    ...['-virtfs', `local,path=${results},mount_tag=results,security_model=none`],
  ];
}

/** Boot the VM and wait for it to end (it powers itself off), or kill it when it hangs. */
export function boot(options: BootOptions): Promise<Boot> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  // setpriv --pdeathsig: should this runner be killed outright, the kernel kills QEMU too.
  const qemu = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'qemu-system-x86_64', ...qemuArgs(options)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const boot: Partial<Boot> = {};
  let killedFor: Ending | undefined;
  const kill = (why: Ending) => {
    killedFor ??= why;
    qemu.kill('SIGKILL');
  };
  const bootTimer = setTimeout(() => kill({ kind: 'no boot' }), options.bootTimeoutMs);
  const runTimer = setTimeout(() => kill({ kind: 'timeout' }), options.runTimeoutMs);
  // Forward the CLI's signals: a learner's Ctrl-C must not leave a VM running.
  const stop = (signal: NodeJS.Signals) => kill({ kind: 'interrupted', signal });
  process.on('SIGINT', stop).on('SIGTERM', stop).on('SIGHUP', stop);

  let pending = '';
  qemu.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop()!;
    for (const line of lines.map((l) => l.replace(/\r$/, ''))) {
      if (line.includes(STAGE_1) && boot.bootedMs === undefined) {
        boot.bootedMs = elapsed();
        clearTimeout(bootTimer);
      }
      if (line.includes(STAGE_2)) boot.userlandMs ??= elapsed();
      // Under TCG, now and then, both emulated CPUs stop making progress, and the guest's
      // watchdog says so every half minute until the run's time is out (an hour). A minute
      // of it is enough to know: killed, and test-vm.ts boots the VM once more.
      const stuck = /soft lockup - CPU#\d+ stuck for (\d+)s/.exec(line);
      if (stuck && Number(stuck[1]) >= 60) kill({ kind: 'stuck', line: line.replace(/^\[[ \d.]+\]\s*/, '') });
      process.stdout.write(`${process.stdout.isTTY ? line : stripVTControlCharacters(line)}\n`); // colours for terminals only
    }
  });
  let stderr = '';
  qemu.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

  return new Promise((resolve) => {
    qemu.on('error', (error) => (stderr += error.message)); // 'close' follows
    qemu.on('close', (code, signal) => {
      clearTimeout(bootTimer);
      clearTimeout(runTimer);
      process.off('SIGINT', stop).off('SIGTERM', stop).off('SIGHUP', stop);
      if (pending) process.stdout.write(`${pending}\n`);
      resolve({ ...boot, endedMs: elapsed(), ending: killedFor ?? { kind: 'exited', code, signal, stderr } });
    });
  });
}
