/**
 * Readiness for the fakes: calls the port's onReadable on a later turn while it has
 * data and is neither paused nor closed, the way uv_poll does for a real fd.
 */
export class FakeReadiness {
  private onReadable: (() => void) | undefined;
  private paused = false;
  private scheduled = false;
  closed = false;

  constructor(private readonly hasData: () => boolean) {}

  start(onReadable: () => void): void {
    this.onReadable = onReadable;
    this.kick();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.kick();
  }

  /** Data arrived (or the port resumed): schedule a callback if one is due. */
  kick(): void {
    if (this.scheduled || this.paused || this.closed || !this.onReadable || !this.hasData()) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.paused || this.closed || !this.hasData()) return;
      this.onReadable?.();
      this.kick();
    });
  }
}
