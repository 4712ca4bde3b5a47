// npm run seccomp -- show: the seccomp policy a container gets (step 14), as a person
// reads it: for each filter (the profile, then docker's rules stacked on the default
// one), what a syscall no rule names gets, which ABIs, each rule in order, and the size
// of the BPF program the kernel runs at every syscall. Nothing is installed.
//   npm run seccomp -- show [--profile <file>] [--keep CAP_A,CAP_B|none] [--compat] [--all]
// --keep: the capabilities the container keeps (rules depend on them; default: docker's
// 14, as step 14 keeps); --compat: the profile's other ABIs too (32-bit x86); --all:
// every name of long lists.
import { constants, release } from 'node:os';
import { DOCKER_CAPABILITIES } from '../shared/security/capabilities.ts';
import {
  buildFilter,
  containerProfiles,
  DEFAULT_PROFILE,
  type Filter,
  filterSize,
  libseccompVersion,
  releaseFilter,
  type SyscallRule,
  summarize,
} from '../shared/security/seccomp.ts';
import { fail, messageOf, parseCommandLine, usageError } from './lib/cli.ts';

const USAGE = 'usage: npm run seccomp -- show [--profile <file>] [--keep CAP_A,CAP_B|none] [--compat] [--all]';
const { values, positionals } = parseCommandLine(USAGE, {
  options: {
    profile: { type: 'string', default: DEFAULT_PROFILE },
    keep: { type: 'string', default: DOCKER_CAPABILITIES.join(',') },
    compat: { type: 'boolean', default: false },
    all: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
  allowPositionals: true,
});
if (values.help || positionals.length !== 1 || positionals[0] !== 'show') usageError(USAGE);

const SHOWN = 8; // names of a long list, without --all
const keep = new Set(values.keep === 'none' ? [] : values.keep.split(',').filter(Boolean));
const OPS: Record<string, string> = {
  SCMP_CMP_NE: '!=',
  SCMP_CMP_LT: '<',
  SCMP_CMP_LE: '<=',
  SCMP_CMP_EQ: '==',
  SCMP_CMP_GE: '>=',
  SCMP_CMP_GT: '>',
};
const number = (value: bigint) => (value > 0xffffn ? `0x${value.toString(16)}` : `${value}`);
const errnoName = new Map(Object.entries(constants.errno).map(([name, number]) => [number, name]));

try {
  const profiles = containerProfiles(values.profile);
  for (const [n, profile] of profiles.entries()) {
    const filter = buildFilter(profile, { keep, compat: values.compat });
    try {
      if (n > 0) console.log(`\nand stacked on it, a filter of its own (the kernel runs both; the stricter answer wins):`);
      show(profile.path, filter, profile.defaultAction, profile.defaultErrnoRet ?? errnoOf(profile.defaultErrno));
    } finally {
      releaseFilter(filter);
    }
  }
} catch (error) {
  fail(`seccomp show: ${messageOf(error)}`); // a profile missing or not docker's format; libseccomp refusing a rule
}

function show(path: string, filter: Filter, defaultAction: string, defaultErrno: number | undefined): void {
  const kept = keep.size > 0 ? `keeps ${[...keep].join(', ')}` : 'keeps no capability';
  const native = filter.arches[0]!;
  const summary = summarize(filter);
  console.log(`${path}, by libseccomp ${libseccompVersion()}, for a container that ${kept} (Linux ${release()})\n`);
  console.log(`default        ${action(defaultAction, defaultErrno)} for every syscall no rule names`);
  const otherAbis = defaultAction === 'SCMP_ACT_ALLOW' ? 'is allowed' : 'kills the process (SIGSYS)';
  console.log(`ABIs           ${filter.arches.join(', ')}: a syscall of any other ${otherAbis}\n`);
  console.log(`rules, in order (for one syscall, a rule without conditions beats those with; the first of them wins):`);
  for (const { rule } of filter.applied) {
    const shadowed = summary.shadowed.get(rule) ?? [];
    const decided = shadowed.length > 0 ? `; ${shadowed.join(', ')}: another rule decides` : '';
    console.log(
      `  ${action(rule.action, rule.errnoRet ?? errnoOf(rule.errno)).padEnd(14)} ${names(rule.names)}${args(rule)}${when(rule)}${decided}`,
    );
  }
  if (filter.notApplied.length > 0) console.log(`\nnot for this container (${filter.notApplied.length}):`);
  for (const { rule, why } of filter.notApplied) {
    console.log(`  ${action(rule.action, rule.errnoRet ?? errnoOf(rule.errno)).padEnd(14)} ${names(rule.names)}${args(rule)}: ${why}`);
  }
  const skipped = summary.skipped.length > 0 ? ` (${summary.skipped.join(' ')})` : '';
  console.log(
    `\nsize: ${filter.rules} rules; of ${native}'s syscalls ${summary.allowed} allowed outright, ${summary.conditional} under a condition;` +
      ` ${summary.elsewhere} names not ${native}'s; ${summary.skipped.length} unknown to libseccomp${skipped};` +
      ` ${filterSize(filter)} BPF instructions`,
  );
}

/** "ERRNO(EPERM)", "ALLOW" */
function action(name: string, errno: number | undefined): string {
  const short = name.replace(/^SCMP_ACT_/, '');
  return short === 'ERRNO' ? `ERRNO(${errnoName.get(errno ?? constants.errno.EPERM) ?? errno})` : short;
}

function errnoOf(name: string | undefined): number | undefined {
  return name ? constants.errno[name as keyof typeof constants.errno] : undefined;
}

/** "socket", or "28 syscalls: bdflush io_pgetevents ... (+20)" */
function names(list: string[]): string {
  if (list.length === 1) return list[0]!;
  const shown = values.all || list.length <= SHOWN + 2 ? list : [...list.slice(0, SHOWN), `… (+${list.length - SHOWN}, --all lists them)`];
  return `${list.length} syscalls: ${shown.join(' ')}`;
}

/** " if arg0 == 16 and arg2 == 9" */
function args({ args }: SyscallRule): string {
  if (!args?.length) return '';
  const conditions = args.map(({ index, value, valueTwo = 0n, op }) =>
    op === 'SCMP_CMP_MASKED_EQ' ? `arg${index} & ${number(value)} == ${number(valueTwo)}` : `arg${index} ${OPS[op]} ${number(value)}`,
  );
  // Two comparisons of one argument are alternatives (runc's reading), of several: all hold.
  const once = new Set(args.map(({ index }) => index)).size === args.length;
  return ` if ${conditions.join(once ? ' and ' : ' or ')}`;
}

/** " (without CAP_SYS_ADMIN)": why a rule applies, when it depends on something. */
function when({ includes: inc = {}, excludes: exc = {} }: SyscallRule): string {
  const parts = [
    ...(inc.caps ?? []).map((cap) => `with ${cap}`),
    ...(exc.caps ?? []).map((cap) => `without ${cap}`),
    ...(inc.arches?.length ? [`on ${inc.arches.join(', ')}`] : []),
    ...(exc.arches?.length ? [`not on ${exc.arches.join(', ')}`] : []),
    ...(inc.minKernel ? [`from Linux ${inc.minKernel}`] : []),
    ...(exc.minKernel ? [`before Linux ${exc.minKernel}`] : []),
  ];
  return parts.length > 0 ? `   (${parts.join('; ')})` : '';
}
