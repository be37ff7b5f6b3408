/**
 * One family's path-compressed binary trie, the structure under PrefixTrie (prefix-trie.ts):
 * placing a prefix (with a joining node where two prefixes diverge), finding one exactly,
 * and pruning back after an owner leaves, as the kernel's allowedips.c does. Owners and
 * lookups are PrefixTrie's; addresses are four big-endian int32 words (IPv4 uses the first).
 */

export class TrieNode<P> {
  /** Masked prefix words and their masks (big-endian, int32). */
  w0 = 0;
  w1 = 0;
  w2 = 0;
  w3 = 0;
  m0 = 0;
  m1 = 0;
  m2 = 0;
  m3 = 0;
  /** Which word and bit (counted from the top) pick the child: the first bit after the prefix. */
  bitWord = 0;
  bitShift = 0;
  peer: P | undefined = undefined;
  child0: TrieNode<P> | null = null;
  child1: TrieNode<P> | null = null;
  parent: TrieNode<P> | null = null;
  /** Links in the owner's claim-ordered list. */
  prevOfPeer: TrieNode<P> | null = null;
  nextOfPeer: TrieNode<P> | null = null;

  constructor(
    readonly family: 4 | 6,
    readonly cidr: number,
    k: Int32Array,
  ) {
    this.m0 = maskWord(cidr);
    this.m1 = maskWord(cidr - 32);
    this.m2 = maskWord(cidr - 64);
    this.m3 = maskWord(cidr - 96);
    this.w0 = k[0] & this.m0;
    this.w1 = k[1] & this.m1;
    this.w2 = k[2] & this.m2;
    this.w3 = k[3] & this.m3;
    this.bitWord = Math.min(cidr >>> 5, 3);
    this.bitShift = 31 - (cidr & 31);
  }

  word(i: number): number {
    return i === 0 ? this.w0 : i === 1 ? this.w1 : i === 2 ? this.w2 : this.w3;
  }
}

/** The top n bits of a 32-bit word set (n clamped to 0..32), as int32. */
function maskWord(n: number): number {
  return n <= 0 ? 0 : n >= 32 ? -1 : -1 << (32 - n);
}

function matches<P>(n: TrieNode<P>, k: Int32Array): boolean {
  return (((k[0] ^ n.w0) & n.m0) | ((k[1] ^ n.w1) & n.m1) | ((k[2] ^ n.w2) & n.m2) | ((k[3] ^ n.w3) & n.m3)) === 0;
}

/** Length of the common leading bits of a node's prefix and a key (128 when equal). */
function commonBits<P>(n: TrieNode<P>, k: Int32Array): number {
  let x = n.w0 ^ k[0];
  if (x !== 0) return Math.clz32(x);
  x = n.w1 ^ k[1];
  if (x !== 0) return 32 + Math.clz32(x);
  x = n.w2 ^ k[2];
  if (x !== 0) return 64 + Math.clz32(x);
  x = n.w3 ^ k[3];
  if (x !== 0) return 96 + Math.clz32(x);
  return 128;
}

function keyBit<P>(n: TrieNode<P>, k: Int32Array): number {
  return (k[n.bitWord] >>> n.bitShift) & 1;
}

/** The bit of `of`'s prefix that decides under which child of `at` it hangs. */
function nodeBit<P>(at: TrieNode<P>, of: TrieNode<P>): number {
  return (of.word(at.bitWord) >>> at.bitShift) & 1;
}

function attach<P>(parent: TrieNode<P>, bit: number, child: TrieNode<P>): void {
  if (bit === 0) parent.child0 = child;
  else parent.child1 = child;
  child.parent = parent;
}

export class FamilyTrie<P> {
  root: TrieNode<P> | null = null;
  nodes = 0;

  constructor(readonly family: 4 | 6) {}

  private newNode(k: Int32Array, cidr: number): TrieNode<P> {
    this.nodes++;
    return new TrieNode<P>(this.family, cidr, k);
  }

  private replace(parent: TrieNode<P> | null, old: TrieNode<P>, next: TrieNode<P> | null): void {
    if (parent === null) this.root = next;
    else if (parent.child0 === old) parent.child0 = next;
    else parent.child1 = next;
    if (next !== null) next.parent = parent;
  }

  private free(n: TrieNode<P>): void {
    this.nodes--;
    n.parent = n.child0 = n.child1 = null;
  }

  /** The node holding exactly k/cidr, with or without owner. */
  findExact(k: Int32Array, cidr: number): TrieNode<P> | null {
    let node = this.root;
    while (node !== null && node.cidr <= cidr && matches(node, k)) {
      if (node.cidr === cidr) return node;
      node = keyBit(node, k) === 0 ? node.child0 : node.child1;
    }
    return null;
  }

  /** Returns the node for k/cidr, creating it (and a joining node if needed). Kernel add(). */
  place(k: Int32Array, cidr: number): TrieNode<P> {
    let node = this.root;
    let parent: TrieNode<P> | null = null;
    while (node !== null && node.cidr <= cidr && matches(node, k)) {
      parent = node;
      if (node.cidr === cidr) return node;
      node = keyBit(node, k) === 0 ? node.child0 : node.child1;
    }
    const fresh = this.newNode(k, cidr);
    if (this.root === null) {
      this.root = fresh;
      return fresh;
    }
    let down: TrieNode<P>;
    if (parent === null) {
      down = this.root;
    } else {
      const bit = keyBit(parent, k);
      const child = bit === 0 ? parent.child0 : parent.child1;
      if (child === null) {
        attach(parent, bit, fresh);
        return fresh;
      }
      down = child;
    }
    const common = Math.min(cidr, commonBits(down, k));
    if (common === cidr) {
      // The new prefix covers `down`: it goes in between.
      this.replace(parent, down, fresh);
      attach(fresh, nodeBit(fresh, down), down);
      return fresh;
    }
    // They diverge at bit `common`: join them under an ownerless node.
    const join = this.newNode(k, common);
    this.replace(parent, down, join);
    attach(join, nodeBit(join, down), down);
    attach(join, nodeBit(join, fresh), fresh);
    return fresh;
  }

  /**
   * Unhooks a node whose owner was just cleared, keeping the invariant that ownerless
   * nodes have two children (kernel remove_node / wg_allowedips_remove_by_peer).
   */
  prune(node: TrieNode<P>): void {
    if (node.child0 !== null && node.child1 !== null) return;
    const child = node.child0 ?? node.child1;
    const parent = node.parent;
    this.replace(parent, node, child);
    this.free(node);
    if (child === null && parent !== null && parent.peer === undefined) {
      // The joining node above now joins only one subtree: splice it out too.
      this.replace(parent.parent, parent, parent.child0 ?? parent.child1);
      this.free(parent);
    }
  }
}
