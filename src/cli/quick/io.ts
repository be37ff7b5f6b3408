/** Where a wg-quick verb writes: stdout for `strip`, stderr for the `[#] command` trace and messages. */
export interface QuickIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** A verb's early end with an exit status (wg-quick's `die` or a failed command under `set -e`). */
export class QuickExit extends Error {
  constructor(
    readonly status: number,
    message = `exit ${status}`,
  ) {
    super(message);
    this.name = 'QuickExit';
  }
}
