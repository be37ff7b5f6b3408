import { ErrorCode, FerryError } from '../errors.js';
import type { IpPrefix } from '../text/prefix.js';
import { FamilyTrie, type TrieNode } from './family-trie.js';

/**
 * Longest-prefix match from prefixes to owners: WireGuard's allowed IPs (which peer owns
 * an inner address) and the datapath's route table both use it. One path-compressed binary trie
 * per family, shaped like the kernel's (drivers/net/wireguard/allowedips.c): a node holds
 * a masked prefix and maybe an owner; nodes without an owner exist only to join two
 * subtrees, so a trie of n prefixes has at most 2n - 1 nodes, and removal prunes back to
 * that bound. Lookup is longest-prefix match walking from the root.
 *
 * Semantics follow the kernel and wireguard-go:
 * - insert() of a prefix that exists moves it to the new peer (the latest claim wins);
 * - host bits are masked off (10.0.0.1/24 is stored as 10.0.0.0/24);
 * - each peer's prefixes are listed in the order they were claimed, both families in one
 *   list, a re-claimed prefix moving to the end (the kernel's peer->allowedips_list and
 *   wireguard-go's peer.trieEntries both behave so, and `wg show` prints that order).
 *
 * Addresses are held as four big-endian 32-bit words (IPv4 uses the first), so the hot
 * path compares words with masks and never allocates.
 */

// Prefix text (parse, format) is the text module's; the trie only re-exports it for its callers.
export { formatPrefix, type IpPrefix, parsePrefix } from '../text/prefix.js';

interface PeerList<P> {
  head: TrieNode<P> | null;
  tail: TrieNode<P> | null;
  count: number;
}

export class PrefixTrie<P> {
  private readonly v4 = new FamilyTrie<P>(4);
  private readonly v6 = new FamilyTrie<P>(6);
  private readonly byPeer = new Map<P, PeerList<P>>();
  /** Scratch key for control-path calls. */
  private readonly key = new Int32Array(4);
  private owned = 0;

  /** Number of prefixes with an owner. */
  get size(): number {
    return this.owned;
  }

  /** Trie nodes in use, joining nodes included (at most 2 * size - 1 per family; for leak checks). */
  get nodeCount(): number {
    return this.v4.nodes + this.v6.nodes;
  }

  /** Gives bytes/cidr (4 or 16 bytes; host bits ignored) to peer, taking it from any previous owner. */
  insert(bytes: Uint8Array, cidr: number, peer: P): void {
    if (peer === undefined) throw new FerryError(ErrorCode.InvalidArgument, 'allowed IP owner must not be undefined');
    const trie = this.load(bytes, cidr);
    const node = trie.place(this.key, cidr);
    if (node.peer !== undefined) this.unlink(node);
    else this.owned++;
    node.peer = peer;
    this.append(node, peer);
  }

  /** The owner of exactly bytes/cidr (host bits ignored), not a covering prefix's. Control path. */
  exact(bytes: Uint8Array, cidr: number): P | undefined {
    const trie = this.load(bytes, cidr);
    return trie.findExact(this.key, cidr)?.peer;
  }

  /** Removes bytes/cidr if peer owns it; false otherwise (someone else's prefix stays). */
  remove(bytes: Uint8Array, cidr: number, peer: P): boolean {
    const trie = this.load(bytes, cidr);
    const node = trie.findExact(this.key, cidr);
    if (node === null || node.peer === undefined || node.peer !== peer) return false;
    this.unlink(node);
    node.peer = undefined;
    this.owned--;
    trie.prune(node);
    return true;
  }

  /** Removes every prefix of peer; returns how many. */
  removeByPeer(peer: P): number {
    const list = this.byPeer.get(peer);
    if (list === undefined) return 0;
    this.byPeer.delete(peer);
    let node = list.head;
    while (node !== null) {
      const next = node.nextOfPeer;
      node.prevOfPeer = node.nextOfPeer = null;
      node.peer = undefined;
      (node.family === 4 ? this.v4 : this.v6).prune(node);
      node = next;
    }
    this.owned -= list.count;
    return list.count;
  }

  /** Peer's prefixes in claim order (masked). Control path. */
  entriesForPeer(peer: P): IpPrefix[] {
    const out: IpPrefix[] = [];
    for (let n = this.byPeer.get(peer)?.head ?? null; n !== null; n = n.nextOfPeer) {
      const bytes = new Uint8Array(n.family === 4 ? 4 : 16);
      const words = n.family === 4 ? 1 : 4;
      for (let i = 0; i < words; i++) {
        const w = n.word(i);
        bytes[4 * i] = w >>> 24;
        bytes[4 * i + 1] = w >>> 16;
        bytes[4 * i + 2] = w >>> 8;
        bytes[4 * i + 3] = w;
      }
      out.push({ family: n.family, bytes, cidr: n.cidr });
    }
    return out;
  }

  countForPeer(peer: P): number {
    return this.byPeer.get(peer)?.count ?? 0;
  }

  clear(): void {
    for (const t of [this.v4, this.v6]) {
      t.root = null;
      t.nodes = 0;
    }
    this.byPeer.clear();
    this.owned = 0;
  }

  /** Owner of an IPv4 address given as a uint32 (or int32) in host order. Hot path. */
  lookupV4(addr: number): P | undefined {
    const k = addr | 0;
    let found: P | undefined;
    let node = this.v4.root;
    while (node !== null && ((k ^ node.w0) & node.m0) === 0) {
      if (node.peer !== undefined) found = node.peer;
      node = ((k >>> node.bitShift) & 1) === 0 ? node.child0 : node.child1;
    }
    return found;
  }

  /** Owner of the IPv4 address in buf[offset..offset+4) (network order), read in place. Hot path. */
  lookupV4At(buf: Uint8Array, offset: number): P | undefined {
    return this.lookupV4((buf[offset] << 24) | (buf[offset + 1] << 16) | (buf[offset + 2] << 8) | buf[offset + 3]);
  }

  /**
   * Owner of the IPv6 address in buf[offset..offset+16), read in place. Hot path: the
   * caller has checked the length (the packet parser did).
   */
  lookupV6(buf: Uint8Array, offset: number): P | undefined {
    const o = offset;
    const k0 = (buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3];
    const k1 = (buf[o + 4] << 24) | (buf[o + 5] << 16) | (buf[o + 6] << 8) | buf[o + 7];
    const k2 = (buf[o + 8] << 24) | (buf[o + 9] << 16) | (buf[o + 10] << 8) | buf[o + 11];
    const k3 = (buf[o + 12] << 24) | (buf[o + 13] << 16) | (buf[o + 14] << 8) | buf[o + 15];
    let found: P | undefined;
    let node = this.v6.root;
    while (node !== null) {
      if ((((k0 ^ node.w0) & node.m0) | ((k1 ^ node.w1) & node.m1) | ((k2 ^ node.w2) & node.m2) | ((k3 ^ node.w3) & node.m3)) !== 0) break;
      if (node.peer !== undefined) found = node.peer;
      const w = node.bitWord;
      const k = w === 0 ? k0 : w === 1 ? k1 : w === 2 ? k2 : k3;
      node = ((k >>> node.bitShift) & 1) === 0 ? node.child0 : node.child1;
    }
    return found;
  }

  /** Validates a prefix and loads it into the scratch key; returns its family's trie. */
  private load(bytes: Uint8Array, cidr: number): FamilyTrie<P> {
    if (!(bytes instanceof Uint8Array) || (bytes.length !== 4 && bytes.length !== 16)) {
      throw new FerryError(ErrorCode.InvalidArgument, 'allowed IP address must be 4 or 16 bytes');
    }
    const max = bytes.length * 8;
    if (!Number.isInteger(cidr) || cidr < 0 || cidr > max) {
      throw new FerryError(ErrorCode.InvalidArgument, `allowed IP prefix length must be an integer in [0, ${max}], got ${cidr}`);
    }
    const k = this.key;
    k.fill(0);
    for (let i = 0; i < bytes.length; i += 4) {
      k[i >> 2] = (bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3];
    }
    return bytes.length === 4 ? this.v4 : this.v6;
  }

  private append(node: TrieNode<P>, peer: P): void {
    let list = this.byPeer.get(peer);
    if (list === undefined) {
      list = { head: null, tail: null, count: 0 };
      this.byPeer.set(peer, list);
    }
    node.prevOfPeer = list.tail;
    node.nextOfPeer = null;
    if (list.tail !== null) list.tail.nextOfPeer = node;
    else list.head = node;
    list.tail = node;
    list.count++;
  }

  private unlink(node: TrieNode<P>): void {
    const list = this.byPeer.get(node.peer as P);
    if (list === undefined) return;
    if (node.prevOfPeer !== null) node.prevOfPeer.nextOfPeer = node.nextOfPeer;
    else list.head = node.nextOfPeer;
    if (node.nextOfPeer !== null) node.nextOfPeer.prevOfPeer = node.prevOfPeer;
    else list.tail = node.prevOfPeer;
    node.prevOfPeer = node.nextOfPeer = null;
    if (--list.count === 0) this.byPeer.delete(node.peer as P);
  }
}
