/**
 * Readers waiting for free pool slots (backpressure): a reader that found no slot of its
 * class registers a function, called once when at least `threshold` slots of that class
 * are free. Waiters are parallel arrays with a count: registering reuses the entries of
 * waiters already gone, and a release only compares its class's free count with the
 * smallest threshold of that class, so neither allocates. One entry per distinct function.
 */
export class SlotWaiters {
  /** Smallest threshold waiting, per slot class (Infinity: none). The pool reads it on every release. */
  readonly minThreshold = new Float64Array([Infinity, Infinity]);
  private readonly fns: ((() => void) | undefined)[] = [];
  private readonly thresholds: number[] = [];
  private readonly classes: number[] = [];
  private count = 0;
  /** Waiters being called by wake() (taken out of the list first, so they may re-register). */
  private readonly firing: ((() => void) | undefined)[] = [];
  private readonly firingClasses: number[] = [];
  private firingCount = 0;
  private firingNext = 0;
  private waking = false;

  /** @param free free slots per class, kept current by the pool */
  constructor(private readonly free: Int32Array) {}

  /** Functions waiting. */
  get waiting(): number {
    return this.count;
  }

  /**
   * Calls fn once, when at least `threshold` slots of class `cls` are free (at once if
   * they are now). A function already waiting keeps its entry: the lower threshold when
   * the class is the same, else the new class and threshold.
   */
  add(threshold: number, fn: () => void, cls: number): void {
    if (this.free[cls] >= threshold) {
      fn();
      return;
    }
    const fns = this.fns;
    let i = 0;
    while (i < this.count && fns[i] !== fn) i++;
    if (i === this.count) {
      this.count++;
      fns[i] = fn;
      this.thresholds[i] = threshold;
      this.classes[i] = cls;
    } else if (this.classes[i] !== cls) {
      // A stale, lower minimum of the old class only costs one scan in takeReady.
      this.classes[i] = cls;
      this.thresholds[i] = threshold;
    } else if (threshold < this.thresholds[i]) {
      this.thresholds[i] = threshold;
    }
    if (threshold < this.minThreshold[cls]) this.minThreshold[cls] = threshold;
  }

  /** Forgets fn (a port closing). Returns true when it was waiting. */
  cancel(fn: () => void): boolean {
    const fns = this.fns;
    const thresholds = this.thresholds;
    const classes = this.classes;
    const min = this.minThreshold;
    min[0] = min[1] = Infinity;
    let kept = 0;
    for (let i = 0; i < this.count; i++) {
      const f = fns[i];
      if (f === fn) continue;
      fns[kept] = f;
      thresholds[kept] = thresholds[i];
      classes[kept] = classes[i];
      if (thresholds[i] < min[classes[i]]) min[classes[i]] = thresholds[i];
      kept++;
    }
    const removed = kept !== this.count;
    for (let i = kept; i < this.count; i++) fns[i] = undefined;
    this.count = kept;
    for (let k = this.firingNext; k < this.firingCount; k++) {
      if (this.firing[k] === fn) this.firing[k] = undefined;
    }
    return removed;
  }

  /**
   * Calls the waiters whose threshold is met. They leave the list before any is called,
   * so a callback may register again, release slots (a nested wake only marks the loop
   * to run again) or cancel a waiter still to be called.
   */
  wake(): void {
    if (this.waking) return;
    this.waking = true;
    const free = this.free;
    const min = this.minThreshold;
    try {
      while (free[0] >= min[0] || free[1] >= min[1]) {
        this.takeReady();
        while (this.firingNext < this.firingCount) {
          const fn = this.firing[this.firingNext];
          this.firing[this.firingNext++] = undefined;
          fn?.();
        }
      }
    } finally {
      // A callback threw: the ones not called yet wait again, for one more free slot of their class.
      for (let k = this.firingNext; k < this.firingCount; k++) {
        const fn = this.firing[k];
        this.firing[k] = undefined;
        const cls = this.firingClasses[k];
        if (fn !== undefined) this.add(free[cls] + 1, fn, cls);
      }
      this.firingCount = this.firingNext = 0;
      this.waking = false;
    }
  }

  /** Moves the waiters whose threshold is met from the list to `firing`. */
  private takeReady(): void {
    const fns = this.fns;
    const thresholds = this.thresholds;
    const classes = this.classes;
    const free = this.free;
    const min = this.minThreshold;
    min[0] = min[1] = Infinity;
    let kept = 0;
    this.firingCount = this.firingNext = 0;
    for (let i = 0; i < this.count; i++) {
      const t = thresholds[i];
      const cls = classes[i];
      if (free[cls] >= t) {
        this.firingClasses[this.firingCount] = cls;
        this.firing[this.firingCount++] = fns[i];
        continue;
      }
      fns[kept] = fns[i];
      thresholds[kept] = t;
      classes[kept] = cls;
      if (t < min[cls]) min[cls] = t;
      kept++;
    }
    for (let i = kept; i < this.count; i++) fns[i] = undefined;
    this.count = kept;
  }
}
