/**
 * A bound on the connections a local socket (UAPI, control) holds at once. At the bound,
 * a new connection is not refused: the one that has been quiet longest is closed to make
 * room, so a burst of connections that send nothing cannot lock `wg show` or `ferry
 * status` out, and memory stays bounded by the bound. A connection doing work (a request
 * being answered, a capture streaming) is never the one closed.
 */
import type { Socket } from 'node:net';

const DEFAULT_MAX_CONNECTIONS = 256;

interface Entry {
  lastActive: number;
  busy: number;
}

export class ConnectionLimit {
  private readonly live = new Map<Socket, Entry>();
  /** Connections closed to make room for newer ones. */
  evicted = 0;

  constructor(
    readonly max = DEFAULT_MAX_CONNECTIONS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.live.size;
  }

  /** Takes a new connection in, closing the quietest idle one when at the bound. */
  admit(sock: Socket): void {
    if (this.live.size >= this.max) this.evictQuietest();
    this.live.set(sock, { lastActive: this.now(), busy: 0 });
    sock.once('close', () => this.live.delete(sock));
  }

  /** The connection sent something. */
  active(sock: Socket): void {
    const e = this.live.get(sock);
    if (e !== undefined) e.lastActive = this.now();
  }

  /** Work on the connection started (true) or ended (false); a busy one is never evicted. */
  busy(sock: Socket, on: boolean): void {
    const e = this.live.get(sock);
    if (e !== undefined) e.busy += on ? 1 : -1;
  }

  private evictQuietest(): void {
    let victim: Socket | null = null;
    let oldest = Infinity;
    for (const [sock, e] of this.live) {
      if (e.busy === 0 && e.lastActive < oldest) {
        oldest = e.lastActive;
        victim = sock;
      }
    }
    if (victim === null) return;
    this.live.delete(victim);
    this.evicted++;
    victim.destroy();
  }
}
