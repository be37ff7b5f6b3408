/**
 * The datapath's route table: one longest-prefix match over IPv4 and IPv6 whose next hop
 * is a plane and a reference (a WireGuard peer, a VTEP), the TUN itself, or a drop with a
 * reason. Planes claim prefixes as their configuration changes (WireGuard's allowed IPs,
 * VXLAN's subnets). A prefix held by one owner can move between that owner's references
 * (an allowed IP moving from one peer to another, as UAPI allows); a claim by another
 * owner is a RouteConflict: two planes never share a prefix.
 */
import { ErrorCode, FerryError } from '../errors.js';
import { formatPrefix, type IpPrefix, PrefixTrie } from '../table/prefix-trie.js';
import type { Plane } from './plane.js';

export const RouteKind = {
  Plane: 0,
  Tun: 1,
  Drop: 2,
} as const;

/** A next hop. Made once per (owner, reference) and shared by all its prefixes. */
class Route {
  constructor(
    readonly kind: number,
    /** Who claimed it: a plane's name, "tun" or "drop". */
    readonly owner: string,
    readonly plane: Plane | null,
    readonly ref: unknown,
    /** The drop reason of a Drop route. */
    readonly reason: number,
  ) {}
}

export class RouteTable {
  private readonly trie = new PrefixTrie<Route>();
  private readonly byOwner = new Map<string, Map<unknown, Route>>();
  private readonly tunRoute = new Route(RouteKind.Tun, 'tun', null, null, 0);

  /** Number of prefixes routed. */
  get size(): number {
    return this.trie.size;
  }

  /** The owner already holding exactly this prefix, when it is not `owner`; else null. */
  conflict(prefix: IpPrefix, owner: string): string | null {
    const held = this.trie.exact(prefix.bytes, prefix.cidr);
    return held !== undefined && held.owner !== owner ? held.owner : null;
  }

  /** Routes prefix to plane/ref. Throws RouteConflict when another owner holds it. */
  claim(prefix: IpPrefix, plane: Plane, ref: unknown): void {
    this.insert(prefix, this.routeFor(plane.name, RouteKind.Plane, plane, ref, 0));
  }

  /** Routes prefix back out the TUN (to the host). */
  claimTun(prefix: IpPrefix): void {
    this.insert(prefix, this.tunRoute);
  }

  /** Drops packets to prefix, counted under reason. */
  claimDrop(prefix: IpPrefix, reason: number): void {
    this.insert(prefix, this.routeFor('drop', RouteKind.Drop, null, reason, reason));
  }

  /** Removes prefix if owner/ref holds it. */
  release(prefix: IpPrefix, owner: string, ref: unknown): boolean {
    const route = this.byOwner.get(owner)?.get(ref) ?? (owner === 'tun' ? this.tunRoute : undefined);
    return route !== undefined && this.trie.remove(prefix.bytes, prefix.cidr, route);
  }

  /** Removes every prefix of owner/ref (a peer removed); returns how many. */
  releaseRef(owner: string, ref: unknown): number {
    const routes = this.byOwner.get(owner);
    const route = routes?.get(ref);
    if (routes === undefined || route === undefined) return 0;
    routes.delete(ref);
    return this.trie.removeByPeer(route);
  }

  /** Removes every prefix of an owner (a plane unmounted). */
  releaseOwner(owner: string): number {
    const routes = this.byOwner.get(owner);
    if (routes === undefined) return 0;
    let n = 0;
    for (const route of routes.values()) n += this.trie.removeByPeer(route);
    this.byOwner.delete(owner);
    return n;
  }

  /** Prefixes routed to owner/ref, in claim order. Control path. */
  prefixesOf(owner: string, ref: unknown): IpPrefix[] {
    const route = this.byOwner.get(owner)?.get(ref) ?? (owner === 'tun' ? this.tunRoute : undefined);
    return route === undefined ? [] : this.trie.entriesForPeer(route);
  }

  /** The route for the IPv4 address at buf[offset] (network order). Hot path. */
  lookupV4(buf: Uint8Array, offset: number): Route | undefined {
    return this.trie.lookupV4At(buf, offset);
  }

  /** The route for the IPv6 address at buf[offset]. Hot path. */
  lookupV6(buf: Uint8Array, offset: number): Route | undefined {
    return this.trie.lookupV6(buf, offset);
  }

  private insert(prefix: IpPrefix, route: Route): void {
    const other = this.conflict(prefix, route.owner);
    if (other !== null) {
      throw new FerryError(ErrorCode.RouteConflict, `${formatPrefix(prefix)} is already routed to ${other}; ${route.owner} cannot claim it too`);
    }
    this.trie.insert(prefix.bytes, prefix.cidr, route);
  }

  private routeFor(owner: string, kind: number, plane: Plane | null, ref: unknown, reason: number): Route {
    let routes = this.byOwner.get(owner);
    if (routes === undefined) {
      routes = new Map();
      this.byOwner.set(owner, routes);
    }
    let route = routes.get(ref);
    if (route === undefined) {
      route = new Route(kind, owner, plane, ref, reason);
      routes.set(ref, route);
    }
    return route;
  }
}
