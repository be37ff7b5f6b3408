/**
 * Cryptokey routing: which peer owns an inner address. The trie itself is generic
 * (src/table/prefix-trie.ts); WireGuard keeps one per device for the inbound source check
 * and for `wg show`, while the datapath's route table decides where outbound packets go.
 */
export { PrefixTrie as AllowedIps, parsePrefix, formatPrefix, type IpPrefix } from '../table/prefix-trie.js';
