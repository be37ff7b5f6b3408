import { DropReason, type DropReasonValue } from '../stats/drop-reasons.js';
import {
  COOKIE_REPLY_OFFSET_RECEIVER,
  INITIATION_OFFSET_SENDER,
  MESSAGE_COOKIE_REPLY_SIZE,
  MESSAGE_INITIATION_SIZE,
  MESSAGE_RESPONSE_SIZE,
  MessageType,
  RESPONSE_OFFSET_RECEIVER,
  RESPONSE_OFFSET_SENDER,
} from './constants.js';

/**
 * Length-checked codecs for initiations, responses and cookie replies over caller buffers
 * (transport messages are read and written in place by receive.ts and send.ts). Parsers never
 * throw on wire input: they return a DropReason and fill a caller-owned view (no allocation).
 * Writers put headers into caller buffers; the handshake bodies are written by noise.ts and
 * the MACs by cookie.ts.
 */

const EMPTY = new Uint8Array(0);

/** Returned by messageType() for anything that is not one of the four message types. */
const MESSAGE_TYPE_INVALID = 0;

/**
 * The message type (1..4) of buf[off..off+len], or MESSAGE_TYPE_INVALID when the datagram is
 * shorter than 4 bytes, a reserved byte is non-zero or the type is unknown (wireguard-go reads
 * the first 4 bytes as one little-endian u32, which amounts to the same test). receive.ts
 * makes the same test inline on the hot path.
 */
function messageType(buf: Uint8Array, off: number, len: number): number {
  if (len < 4 || off < 0 || off + 4 > buf.length) return MESSAGE_TYPE_INVALID;
  if ((buf[off + 1] | buf[off + 2] | buf[off + 3]) !== 0) return MESSAGE_TYPE_INVALID;
  const t = buf[off];
  return t >= MessageType.Initiation && t <= MessageType.Transport ? t : MESSAGE_TYPE_INVALID;
}

export function readU32LE(buf: Uint8Array, off: number): number {
  return (buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16)) + buf[off + 3] * 0x100_0000;
}

export function writeU32LE(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v & 0xff;
  buf[off + 1] = (v >>> 8) & 0xff;
  buf[off + 2] = (v >>> 16) & 0xff;
  buf[off + 3] = v >>> 24;
}

/** Where a parsed message lies; reused across packets. */
class MessageView {
  buf: Uint8Array = EMPTY;
  off = 0;
  len = 0;
}

export class InitiationView extends MessageView {
  sender = 0;
}

export class ResponseView extends MessageView {
  sender = 0;
  receiver = 0;
}

export class CookieReplyView extends MessageView {
  receiver = 0;
}

/** Checks bounds, exact length and type; the common part of the handshake parsers. */
function checkFixed(buf: Uint8Array, off: number, len: number, size: number, type: number): DropReasonValue {
  if (off < 0 || len < 0 || off + len > buf.length) return DropReason.Truncated;
  if (len < 4) return DropReason.WgBadMessageLength;
  if (messageType(buf, off, len) !== type) return DropReason.WgUnknownMessageType;
  if (len !== size) return DropReason.WgBadMessageLength;
  return DropReason.None;
}

function setView(view: MessageView, buf: Uint8Array, off: number, len: number): void {
  view.buf = buf;
  view.off = off;
  view.len = len;
}

// The three parsers share one shape on purpose (checkFixed, the view, its fields): each
// message has its own view class, so a caller's view stays of one type.
export function parseInitiation(buf: Uint8Array, off: number, len: number, out: InitiationView): DropReasonValue {
  const r = checkFixed(buf, off, len, MESSAGE_INITIATION_SIZE, MessageType.Initiation);
  if (r !== DropReason.None) return r;
  setView(out, buf, off, len);
  out.sender = readU32LE(buf, off + INITIATION_OFFSET_SENDER);
  return DropReason.None;
}

export function parseResponse(buf: Uint8Array, off: number, len: number, out: ResponseView): DropReasonValue {
  const r = checkFixed(buf, off, len, MESSAGE_RESPONSE_SIZE, MessageType.Response);
  if (r !== DropReason.None) return r;
  setView(out, buf, off, len);
  out.sender = readU32LE(buf, off + RESPONSE_OFFSET_SENDER);
  out.receiver = readU32LE(buf, off + RESPONSE_OFFSET_RECEIVER);
  return DropReason.None;
}

export function parseCookieReply(buf: Uint8Array, off: number, len: number, out: CookieReplyView): DropReasonValue {
  const r = checkFixed(buf, off, len, MESSAGE_COOKIE_REPLY_SIZE, MessageType.CookieReply);
  if (r !== DropReason.None) return r;
  setView(out, buf, off, len);
  out.receiver = readU32LE(buf, off + COOKIE_REPLY_OFFSET_RECEIVER);
  return DropReason.None;
}

function writeType(buf: Uint8Array, off: number, type: number): void {
  buf[off] = type;
  buf[off + 1] = 0;
  buf[off + 2] = 0;
  buf[off + 3] = 0;
}

function checkRoom(buf: Uint8Array, off: number, size: number): void {
  if (!Number.isInteger(off) || off < 0 || off + size > buf.length) {
    throw new RangeError(`need ${size} bytes at offset ${off} in a buffer of ${buf.length}`);
  }
}

function checkIndex(index: number, what: string): void {
  if (!Number.isInteger(index) || index < 0 || index > 0xffff_ffff) throw new RangeError(`${what} index must be a u32, got ${index}`);
}

/** Type and sender of an initiation; the rest (148 bytes in all) is written by noise.ts. */
export function writeInitiationHeader(buf: Uint8Array, off: number, sender: number): void {
  checkRoom(buf, off, MESSAGE_INITIATION_SIZE);
  checkIndex(sender, 'sender');
  writeType(buf, off, MessageType.Initiation);
  writeU32LE(buf, off + INITIATION_OFFSET_SENDER, sender);
}

export function writeResponseHeader(buf: Uint8Array, off: number, sender: number, receiver: number): void {
  checkRoom(buf, off, MESSAGE_RESPONSE_SIZE);
  checkIndex(sender, 'sender');
  checkIndex(receiver, 'receiver');
  writeType(buf, off, MessageType.Response);
  writeU32LE(buf, off + RESPONSE_OFFSET_SENDER, sender);
  writeU32LE(buf, off + RESPONSE_OFFSET_RECEIVER, receiver);
}

export function writeCookieReplyHeader(buf: Uint8Array, off: number, receiver: number): void {
  checkRoom(buf, off, MESSAGE_COOKIE_REPLY_SIZE);
  checkIndex(receiver, 'receiver');
  writeType(buf, off, MessageType.CookieReply);
  writeU32LE(buf, off + COOKIE_REPLY_OFFSET_RECEIVER, receiver);
}
