// Bash for the sandbox: start a step in the background and wait until its command runs,
// so that a test can then signal or kill the runtime.

/**
 * `start <cmd> [args...]`: run the step with a command that prints "started" once it
 * runs; `$runtime` is the runtime's PID. Its stdout goes to $SANDBOX_DIR/out, its
 * stderr to $SANDBOX_DIR/err. `others` lists the sandbox's processes, less its bash and the tools reading the list.
 */
export const START = String.raw`
start() {
  node "$REPO/steps/$STEP/main.ts" run "$@" >"$SANDBOX_DIR/out" 2>"$SANDBOX_DIR/err" &
  runtime=$!
  wait_until "the command to start" has started "$SANDBOX_DIR/out" && return
  echo "never started: $(cat "$SANDBOX_DIR/err")"; exit 1
}
others() { ps -e -o pid=,comm=,args= | awk '$2 !~ /^(bash|ps|awk|sort|tr|wc|xargs)$/'; }
`;
