// Reading and writing the kernel's files (/proc, /sys/fs/cgroup): a failure names the
// file and the errno in one line, like a failed syscall.
import { fstatSync, readFileSync, writeFileSync } from 'node:fs';
import { fsError } from './libc.ts';

/** One write(2) of `value` to `file`: "write 32 to .../pids.max: EINVAL (Invalid argument)". */
export function writeFile(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch (error) {
    throw fsError(`write ${value.trim()} to ${file}`, error);
  }
}

export function readFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw fsError(`read ${file}`, error);
  }
}

/** Run `action` with `dir` as the current directory, then go back. */
export function inDirectory<T>(dir: string, action: () => T): T {
  const before = process.cwd();
  process.chdir(dir);
  try {
    return action();
  } finally {
    process.chdir(before);
  }
}

/** Whether descriptor `fd` is open in this process. */
export function isOpen(fd: number): boolean {
  try {
    return fstatSync(fd) !== undefined;
  } catch {
    return false;
  }
}
