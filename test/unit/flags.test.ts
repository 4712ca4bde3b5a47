// `run`'s options, parsed as docker run's (shared/runtime/cli.ts, shared/runtime/flags.ts).
import { describe, expect, it } from 'vitest';
import { parseFlags } from '../../shared/runtime/cli.ts';
import { UsageError } from '../../shared/runtime/errors.ts';
import { IMAGE_FLAGS, LIMIT_FLAGS } from '../../shared/runtime/flags.ts';
import { formatSize, parseSize } from '../../shared/runtime/sizes.ts';

const FLAGS = { ...LIMIT_FLAGS, ...IMAGE_FLAGS };
const parse = (...words: string[]) => parseFlags(words, FLAGS);

describe('sizes', () => {
  it.each([
    ['64m', 64 * 2 ** 20],
    ['1g', 2 ** 30],
    ['1.5k', 1536],
    ['512', 512],
    ['0', 0],
    ['2M', 2 * 2 ** 20],
  ])('%s is %d bytes', (text, bytes) => expect(parseSize(text)).toBe(bytes));

  it.each(['-1', '1x', 'm', '', '1e3', '99999999999g'])('%j is not a size', (text) => expect(parseSize(text)).toBeUndefined());

  it('formats for people', () => {
    expect(formatSize(64 * 2 ** 20)).toBe('64 MiB');
    expect(formatSize(2 ** 30)).toBe('1 GiB');
    expect(formatSize(1000)).toBe('1000 bytes');
  });
});

describe('run options', () => {
  it('defaults when none is given: 256 MiB, 128 processes, 1 CPU, busybox, no --keep', () => {
    expect(parse('sh').values).toEqual({ memory: 256 * 2 ** 20, pids: 128, cpus: 1, image: 'busybox', keep: false });
  });

  it('both forms, a switch, and `--` before a command that looks like an option', () => {
    const { values, command } = parse('--memory', '64m', '--pids=32', '--keep', '--', '--version');
    expect(values).toMatchObject({ memory: 64 * 2 ** 20, pids: 32, keep: true });
    expect(command).toEqual(['--version']);
  });

  it('options stop at the command: its own options are its own', () => {
    expect(parse('ls', '--memory', '1').command).toEqual(['ls', '--memory', '1']);
  });

  it('0 is no limit, as in docker, below the floors too', () => {
    expect(parse('--memory', '0', '--pids', '0', '--cpus', '0', 'sh').values).toMatchObject({ memory: 0, pids: 0, cpus: 0 });
    expect(parse('--memory', '32m', '--pids', '16', 'sh').values).toMatchObject({ memory: 32 * 2 ** 20, pids: 16 });
  });

  it('--keep=false and --keep=true', () => {
    expect(parse('--keep=false', 'sh').values.keep).toBe(false);
    expect(parse('--keep=true', 'sh').values.keep).toBe(true);
  });

  it.each([
    [['--memory'], /^bad option --memory: at least 32m /],
    [
      ['--memory', '1', 'sh'],
      /^bad option --memory 1: at least 32m \(Node, the container's PID 1, needs about 16m alone\), or 0 for no limit$/,
    ],
    [['--pids', '2', 'sh'], /^bad option --pids 2: at least 16 /],
    [['--memory', 'lots', 'sh'], /^bad option --memory lots/],
    [['--pids', '-3', 'sh'], /^bad option --pids -3/],
    [['--cpus', '99', 'sh'], /^bad option --cpus 99/],
    [['--cpus', '0.001', 'sh'], /^bad option --cpus 0.001/],
    [['--image', '../x', 'sh'], /^bad option --image \.\.\/x/],
    [['--image', 'UPPER', 'sh'], /^bad option --image UPPER/],
    [['--keep=maybe', 'sh'], /^bad option --keep=maybe$/],
    [['--frobnicate', '1', 'sh'], /^unknown option --frobnicate$/],
    [['-p', '8080:80', 'sh'], /^unknown option -p$/], // before step 13: never run as the command
  ])('%j: a usage error', (words, message) => {
    expect(() => parse(...words)).toThrow(UsageError);
    expect(() => parse(...words)).toThrow(message);
  });
});
