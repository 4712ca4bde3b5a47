// A line per layer on a terminal, rewritten as bytes come in ("3f4e8c2a91b0  12.1 MB / 30.4 MB");
// nothing when stderr is a pipe or a file (a log would fill with carriage returns).
const MB = 1_000_000;
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

export class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private last = 0;

  /** The layer's line, at most ten times a second. */
  update(name: string, received: number, total: number): void {
    if (!this.tty || (Date.now() - this.last < 100 && received < total)) return;
    this.last = Date.now();
    process.stderr.write(`\r${name}  ${mb(received)} / ${mb(total)}\x1b[K`);
  }

  /** The layer's last word, on its own line on a terminal. */
  done(name: string, what: string): void {
    if (this.tty) process.stderr.write(`\r${name}  ${what}\x1b[K\n`);
  }
}
