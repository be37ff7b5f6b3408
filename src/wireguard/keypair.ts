import { REJECT_AFTER_MESSAGES, REJECT_AFTER_TIME_MS } from './constants.js';
import type { Peer } from './peer.js';
import { ReplayWindow } from './replay.js';

/**
 * One session's transport state (wireguard-go keypair.go): the two key-table slots, the
 * indices both sides put in transport headers, the send counter and the receive replay
 * window. Created on the control path when a handshake completes; the datapath only
 * reads it and bumps sendCounter.
 */
export class Keypair {
  /** Our receiver index: the peer puts it in transport messages to us. */
  readonly localIndex: number;
  /** The peer's index: we put it in transport messages to the peer. */
  readonly remoteIndex: number;
  /** Key-table slots; -1 once the keypair has been deleted. */
  sendSlot: number;
  receiveSlot: number;
  /** Next nonce to send. A number: exact to 2^53, far beyond any real session. */
  sendCounter = 0;
  readonly replay = new ReplayWindow();
  /** Monotonic ms of the handshake that made it. */
  readonly createdAt: number;
  readonly isInitiator: boolean;
  readonly peer: Peer;
  /** This keypair's entry in the device's index table (its identity there). */
  readonly entry: IndexEntry;

  constructor(peer: Peer, localIndex: number, remoteIndex: number, sendSlot: number, receiveSlot: number, createdAt: number, isInitiator: boolean) {
    this.peer = peer;
    this.localIndex = localIndex;
    this.remoteIndex = remoteIndex;
    this.sendSlot = sendSlot;
    this.receiveSlot = receiveSlot;
    this.createdAt = createdAt;
    this.isInitiator = isInitiator;
    this.entry = new IndexEntry(peer, this);
  }

  get deleted(): boolean {
    return this.sendSlot < 0;
  }
}

/**
 * What a receiver index names: a peer's handshake in progress (keypair null) or one of
 * its keypairs. One monomorphic class, so the per-packet lookup stays a plain Map.get.
 */
export class IndexEntry {
  constructor(
    readonly peer: Peer,
    readonly keypair: Keypair | null,
  ) {}
}

/** True when kp may seal another packet at `now` (wireguard-go SendStagedPackets' test). */
export function keypairUsableForSend(kp: Keypair | null, now: number): boolean {
  return kp !== null && kp.sendSlot >= 0 && kp.sendCounter < REJECT_AFTER_MESSAGES && now - kp.createdAt < REJECT_AFTER_TIME_MS;
}

/**
 * A peer's three keypair slots (wireguard-go Keypairs): `current` sends; `previous` still
 * receives packets in flight from before a rekey; `next` is the responder's fresh keypair,
 * unconfirmed until the initiator's first packet under it arrives. Methods return the
 * keypairs that fell out, for the caller to delete (index table entry, key slots).
 */
export class Keypairs {
  current: Keypair | null = null;
  previous: Keypair | null = null;
  next: Keypair | null = null;

  /** A new session (wireguard-go BeginSymmetricSession's rotation). */
  install(kp: Keypair): Keypair[] {
    const out: Keypair[] = [];
    if (kp.isInitiator) {
      // Our initiation was answered: the keypair is confirmed and sends at once.
      if (this.next !== null) {
        if (this.current !== null) out.push(this.current);
        if (this.previous !== null) out.push(this.previous);
        this.previous = this.next;
        this.next = null;
      } else {
        if (this.previous !== null) out.push(this.previous);
        this.previous = this.current;
      }
      this.current = kp;
    } else {
      // We responded: wait for the initiator to use it before sending with it.
      if (this.next !== null) out.push(this.next);
      if (this.previous !== null) out.push(this.previous);
      this.next = kp;
      this.previous = null;
    }
    return out;
  }

  /**
   * The first authenticated packet under `next` confirms it (wireguard-go
   * ReceivedWithKeypair): next becomes current, current previous. Returns the keypair that
   * fell out (maybe null), or undefined when kp is not `next` (nothing changed).
   */
  confirmNext(kp: Keypair): Keypair | null | undefined {
    if (this.next !== kp) return undefined;
    const old = this.previous;
    this.previous = this.current;
    this.current = kp;
    this.next = null;
    return old;
  }

  /** Empties all three (wireguard-go ZeroAndFlushAll). */
  clear(): Keypair[] {
    const out: Keypair[] = [];
    for (const kp of [this.previous, this.current, this.next]) if (kp !== null) out.push(kp);
    this.previous = this.current = this.next = null;
    return out;
  }

  /** Makes current and next unusable for sending (wireguard-go ExpireCurrentKeypairs). */
  expireForSending(): void {
    if (this.current !== null) this.current.sendCounter = REJECT_AFTER_MESSAGES;
    if (this.next !== null) this.next.sendCounter = REJECT_AFTER_MESSAGES;
  }
}
