// A synchronous pause, for the few places that wait for the kernel (a veth end to come
// up, a killed process to leave its cgroup): the event loop has nothing to do meanwhile.
const cell = new Int32Array(new SharedArrayBuffer(4));

export function sleep(ms: number): void {
  Atomics.wait(cell, 0, 0, ms);
}
