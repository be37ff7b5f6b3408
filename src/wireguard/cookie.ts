import { DropReason, type DropReasonValue } from '../stats/drop-reasons.js';
import {
  COOKIE_REFRESH_TIME_MS,
  COOKIE_REPLY_OFFSET_COOKIE,
  COOKIE_REPLY_OFFSET_NONCE,
  COOKIE_SECRET_LATENCY_MS,
  COOKIE_SIZE,
  HASH_SIZE,
  KEY_SIZE,
  LABEL_COOKIE,
  LABEL_MAC1,
  MAC_SIZE,
  MESSAGE_COOKIE_REPLY_SIZE,
  XAEAD_NONCE_SIZE,
} from './constants.js';
import { constantTimeEqual, hash, mac, randomBytes, xaeadOpen, xaeadSeal } from './crypto.js';
import { CookieReplyView, parseCookieReply, readU32LE, writeCookieReplyHeader } from './messages.js';

/**
 * MAC1/MAC2 and cookie replies (whitepaper 5.4.4 and 5.4.7, wireguard-go cookie.go).
 * Every handshake message ends with mac1 (16 bytes) then mac2 (16 bytes):
 *   mac1 = MAC(HASH(LABEL_MAC1 || receiver's static public), msg[0 .. len-32])
 *   mac2 = MAC(cookie, msg[0 .. len-16])            (zero when no fresh cookie is held)
 * Under load the responder demands a valid mac2 and otherwise answers with a cookie reply:
 *   cookie = MAC(secret, source), secret random and replaced every 120 s,
 *   reply  = XAEAD(HASH(LABEL_COOKIE || responder's static public), random 24-byte nonce,
 *                  cookie, ad = mac1 of the message answered).
 * The "source" input is whatever bytes the caller uses to name the datagram's sender; ferry
 * passes the 24-byte remote part of the endpoint record of src/io/endpoint.ts (family, port, address, scope id).
 * Only the responder ever recomputes a cookie, so the input is not visible on the wire: it has
 * to be stable per source and distinct between sources, which the record is (wireguard-go
 * uses address bytes + little-endian port, the kernel address + big-endian port).
 * Time is injected (monotonic ms); nothing here reads a clock.
 */

const encoder = new TextEncoder();
const LABEL_MAC1_BYTES = encoder.encode(LABEL_MAC1);
const LABEL_COOKIE_BYTES = encoder.encode(LABEL_COOKIE);
/** mac1 and mac2 sit at the end of every handshake message. */
const MACS_SIZE = 2 * MAC_SIZE;

/** The two keys derived from one static public key. */
interface MacKeys {
  /** HASH(LABEL_MAC1 || static public): keys mac1 of messages sent to that key's owner. */
  readonly mac1Key: Uint8Array;
  /** HASH(LABEL_COOKIE || static public): encrypts cookie replies sent by that key's owner. */
  readonly cookieKey: Uint8Array;
}

export function deriveMacKeys(staticPublic: Uint8Array): MacKeys {
  if (staticPublic.length !== KEY_SIZE) throw new RangeError(`static public key must be ${KEY_SIZE} bytes`);
  const mac1Key = new Uint8Array(HASH_SIZE);
  const cookieKey = new Uint8Array(HASH_SIZE);
  hash(mac1Key, LABEL_MAC1_BYTES, staticPublic);
  hash(cookieKey, LABEL_COOKIE_BYTES, staticPublic);
  return { mac1Key, cookieKey };
}

const macScratch = new Uint8Array(MAC_SIZE);
const cookieScratch = new Uint8Array(COOKIE_SIZE);
const replyView = new CookieReplyView();

function hasMacRoom(buf: Uint8Array, off: number, len: number): boolean {
  return off >= 0 && len >= MACS_SIZE && off + len <= buf.length;
}

/** Writes mac1 of buf[off..off+len] (a whole handshake message) in place. */
export function writeMac1(mac1Key: Uint8Array, buf: Uint8Array, off: number, len: number): void {
  if (!hasMacRoom(buf, off, len)) throw new RangeError('message too short for MACs');
  const mac1At = off + len - MACS_SIZE;
  mac(buf, mac1At, mac1Key, buf.subarray(off, mac1At));
}

/** True when the message's mac1 is right for mac1Key (constant-time). Never throws. */
export function checkMac1(mac1Key: Uint8Array, buf: Uint8Array, off: number, len: number): boolean {
  if (!hasMacRoom(buf, off, len)) return false;
  const mac1At = off + len - MACS_SIZE;
  mac(macScratch, 0, mac1Key, buf.subarray(off, mac1At));
  return constantTimeEqual(macScratch, 0, buf, mac1At, MAC_SIZE);
}

function checkMac2(cookie: Uint8Array, buf: Uint8Array, off: number, len: number): boolean {
  const mac2At = off + len - MAC_SIZE;
  mac(macScratch, 0, cookie, buf.subarray(off, mac2At));
  return constantTimeEqual(macScratch, 0, buf, mac2At, MAC_SIZE);
}

/** Responder side: one per device, keyed by our own static public key. */
export class CookieChecker {
  private mac1Key = new Uint8Array(HASH_SIZE);
  private cookieKey = new Uint8Array(HASH_SIZE);
  private readonly secret = new Uint8Array(HASH_SIZE);
  private secretSetAt = -Infinity;

  constructor(ownKeys: MacKeys) {
    this.setKeys(ownKeys);
  }

  /** After a private key change; also forgets the cookie secret, as wireguard-go's Init does. */
  setKeys(ownKeys: MacKeys): void {
    this.mac1Key = Uint8Array.from(ownKeys.mac1Key);
    this.cookieKey = Uint8Array.from(ownKeys.cookieKey);
    this.secret.fill(0);
    this.secretSetAt = -Infinity;
  }

  checkMac1(buf: Uint8Array, off: number, len: number): boolean {
    return checkMac1(this.mac1Key, buf, off, len);
  }

  /**
   * True when mac2 was made with the cookie we would give `source` now. False once the secret
   * is older than 120 s (the sender then gets a fresh cookie reply). Never throws.
   */
  checkMac2(buf: Uint8Array, off: number, len: number, source: Uint8Array, sourceOff: number, sourceLen: number, nowMs: number): boolean {
    if (!hasMacRoom(buf, off, len)) return false;
    if (!(nowMs - this.secretSetAt <= COOKIE_REFRESH_TIME_MS)) return false;
    this.makeCookie(source, sourceOff, sourceLen);
    const ok = checkMac2(cookieScratch, buf, off, len);
    cookieScratch.fill(0);
    return ok;
  }

  /**
   * Writes a 64-byte cookie reply to the handshake message buf[off..off+len] (already known
   * to carry a valid mac1) into out at outOff. Rotates the secret when it is older than 120 s.
   */
  createReply(buf: Uint8Array, off: number, len: number, source: Uint8Array, sourceOff: number, sourceLen: number, nowMs: number, out: Uint8Array, outOff: number): void {
    if (!hasMacRoom(buf, off, len)) throw new RangeError('message too short for MACs');
    if (!(nowMs - this.secretSetAt <= COOKIE_REFRESH_TIME_MS)) {
      randomBytes(this.secret, 0, HASH_SIZE);
      this.secretSetAt = nowMs;
    }
    // Receiver = the sender index of the message answered (offset 4 in both handshake messages).
    writeCookieReplyHeader(out, outOff, readU32LE(buf, off + 4));
    const nonceAt = outOff + COOKIE_REPLY_OFFSET_NONCE;
    randomBytes(out, nonceAt, XAEAD_NONCE_SIZE);
    this.makeCookie(source, sourceOff, sourceLen);
    const mac1At = off + len - MACS_SIZE;
    xaeadSeal(out, outOff + COOKIE_REPLY_OFFSET_COOKIE, this.cookieKey, out.subarray(nonceAt, nonceAt + XAEAD_NONCE_SIZE), cookieScratch, buf.subarray(mac1At, mac1At + MAC_SIZE));
    cookieScratch.fill(0);
  }

  private makeCookie(source: Uint8Array, sourceOff: number, sourceLen: number): void {
    mac(cookieScratch, 0, this.secret, source.subarray(sourceOff, sourceOff + sourceLen));
  }
}

/** Initiator side: one per peer, keyed by the peer's static public key. */
export class CookieGenerator {
  private readonly keys: MacKeys;
  private readonly cookie = new Uint8Array(COOKIE_SIZE);
  private cookieSetAt = -Infinity;
  private readonly lastMac1 = new Uint8Array(MAC_SIZE);
  private hasLastMac1 = false;

  constructor(peerStaticPublic: Uint8Array) {
    this.keys = deriveMacKeys(peerStaticPublic);
  }

  /**
   * Fills mac1 and mac2 of the handshake message buf[off..off+len] we are about to send, and
   * remembers mac1 (a cookie reply to it is sealed with it as associated data). mac2 is
   * zero unless a cookie younger than 120 s - 5 s is held (the kernel's margin, so we never
   * use a cookie whose secret the responder may already have replaced).
   */
  addMacs(buf: Uint8Array, off: number, len: number, nowMs: number): void {
    writeMac1(this.keys.mac1Key, buf, off, len);
    const mac1At = off + len - MACS_SIZE;
    const mac2At = mac1At + MAC_SIZE;
    this.lastMac1.set(buf.subarray(mac1At, mac2At));
    this.hasLastMac1 = true;
    if (this.hasFreshCookie(nowMs)) mac(buf, mac2At, this.cookie, buf.subarray(off, mac2At));
    else buf.fill(0, mac2At, mac2At + MAC_SIZE);
  }

  /**
   * Takes a cookie reply (the caller found this peer by its receiver index). Fails unless it
   * decrypts under the mac1 we last sent; each sent mac1 admits one reply (as the kernel does).
   */
  consumeReply(buf: Uint8Array, off: number, len: number, nowMs: number): DropReasonValue {
    const r = parseCookieReply(buf, off, len, replyView);
    if (r !== DropReason.None) return r;
    if (!this.hasLastMac1) return DropReason.WgCookieInvalid;
    const nonceAt = off + COOKIE_REPLY_OFFSET_NONCE;
    const sealedAt = off + COOKIE_REPLY_OFFSET_COOKIE;
    const ok = xaeadOpen(
      cookieScratch,
      0,
      this.keys.cookieKey,
      buf.subarray(nonceAt, nonceAt + XAEAD_NONCE_SIZE),
      buf.subarray(sealedAt, off + MESSAGE_COOKIE_REPLY_SIZE),
      this.lastMac1,
    );
    if (!ok) return DropReason.WgCookieInvalid;
    this.cookie.set(cookieScratch);
    cookieScratch.fill(0);
    this.cookieSetAt = nowMs;
    this.hasLastMac1 = false;
    return DropReason.None;
  }

  hasFreshCookie(nowMs: number): boolean {
    return nowMs - this.cookieSetAt <= COOKIE_REFRESH_TIME_MS - COOKIE_SECRET_LATENCY_MS;
  }
}
