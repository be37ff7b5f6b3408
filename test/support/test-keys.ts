/** Fixed, valid base64 keys for the config tests (32 bytes of one repeated value). */
export function testKey(n: number): string {
  return Buffer.alloc(32, n).toString('base64');
}

export function testKeyHex(n: number): string {
  return Buffer.alloc(32, n).toString('hex');
}

export const PRIV = testKey(0x11);
export const PEER_A = testKey(0x22);
export const PEER_B = testKey(0x33);
export const PSK = testKey(0x44);
