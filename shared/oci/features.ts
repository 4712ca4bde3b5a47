// What `features` prints: what this runtime can do, in the runtime spec's features
// document (features.md), as runc 1.1's `runc features` writes it. containerd reads it
// to know which mount options and namespaces it may ask for.
import { ALL_CAPABILITIES } from '../security/capabilities.ts';

// The mount options a runtime recognizes: those mount(8) makes mount(2)'s flags, a bind,
// a propagation. Anything else ("mode=755", "size=65536k") goes to the filesystem as its
// data. Not runc's recursive ones (rro, rnosuid...: mount_setattr(2)), nor its tmpcopyup.
// biome-ignore format: a table
const MOUNT_OPTIONS = [
  'async', 'atime', 'bind', 'defaults', 'dev', 'diratime', 'dirsync', 'exec', 'lazytime', 'loud', 'mand', 'noatime',
  'nodev', 'nodiratime', 'noexec', 'nolazytime', 'nomand', 'norelatime', 'nostrictatime', 'nosuid', 'nosymfollow',
  'private', 'rbind', 'relatime', 'remount', 'ro', 'rprivate', 'rshared', 'rslave', 'runbindable', 'rw', 'shared',
  'silent', 'slave', 'strictatime', 'suid', 'symfollow', 'sync', 'unbindable',
];

/** The features document; `mountOptions`: the ones the runtime's mounts take, if not those above. */
export function features(mountOptions: readonly string[] = MOUNT_OPTIONS): object {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.0.2', // the spec of Debian's schemas (shared/oci/schema.ts)
    hooks: ['prestart', 'createRuntime', 'poststart', 'poststop'], // those run on the host (shared/oci/hooks.ts)
    mountOptions: [...mountOptions].sort(),
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts'],
      capabilities: [...ALL_CAPABILITIES], // the kernel's order, as runc lists them
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false }, // cgroupfs only: no systemd scopes
      seccomp: {
        enabled: true,
        // shared/security/seccomp.ts's; SCMP_ACT_NOTIFY only with a listenerPath (an agent answers the kernel)
        actions: [
          'SCMP_ACT_ALLOW',
          'SCMP_ACT_ERRNO',
          'SCMP_ACT_KILL',
          'SCMP_ACT_KILL_PROCESS',
          'SCMP_ACT_KILL_THREAD',
          'SCMP_ACT_LOG',
          'SCMP_ACT_NOTIFY',
          'SCMP_ACT_TRACE',
          'SCMP_ACT_TRAP',
        ],
        operators: ['SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_LE', 'SCMP_CMP_LT', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_NE'],
        // runc's, those libseccomp 2.5 knows, but x32 (seccomp.ts leaves it out: see LEFT_OUT there).
        // biome-ignore format: a table
        archs: [
          'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32',
          'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64',
          'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64',
        ],
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
    },
  };
}
