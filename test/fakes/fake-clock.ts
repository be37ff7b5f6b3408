/** A clock the test moves by hand; devices take `now()` from it (milliseconds). */
export class FakeClock {
  constructor(private t = 1_700_000_000_000) {}

  now = (): number => this.t;

  advance(ms: number): void {
    this.t += ms;
  }

  set(ms: number): void {
    this.t = ms;
  }
}
