/**
 * Names and limits of the wg-quick configuration format, as wg(8) (wireguard-tools
 * src/config.c) and wg-quick(8) (src/wg-quick/linux.bash) define them.
 */

/** Keys wg(8) itself understands, by section: `wg setconf` and `wg-quick strip` keep these. */
const WG_INTERFACE_KEYS = ['PrivateKey', 'ListenPort', 'FwMark'] as const;
const WG_PEER_KEYS = ['PublicKey', 'PresharedKey', 'AllowedIPs', 'Endpoint', 'PersistentKeepalive'] as const;

/** [Interface] keys that wg-quick handles itself and removes before calling wg. */
export const WG_QUICK_KEYS = ['Address', 'DNS', 'MTU', 'Table', 'PreUp', 'PostUp', 'PreDown', 'PostDown', 'SaveConfig'] as const;

/** ferry's additions: keys read from a file, so a config can stay free of secrets. */
const FERRY_INTERFACE_KEYS = ['PrivateKeyFile'] as const;
const FERRY_PEER_KEYS = ['PresharedKeyFile'] as const;
/** ferry's [Interface] settings for the daemon itself: wg(8) knows none, so strip removes them like wg-quick's keys. */
export const FERRY_DAEMON_KEYS = ['FerryOffload'] as const;

export const INTERFACE_KEYS: readonly string[] = [...WG_INTERFACE_KEYS, ...FERRY_INTERFACE_KEYS, ...WG_QUICK_KEYS, ...FERRY_DAEMON_KEYS];
export const PEER_KEYS: readonly string[] = [...WG_PEER_KEYS, ...FERRY_PEER_KEYS];

/** Keys that may appear several times in one section; their values accumulate in order. */
export const REPEATABLE_KEYS: ReadonlySet<string> = new Set(['AllowedIPs', 'Address', 'DNS', 'PreUp', 'PostUp', 'PreDown', 'PostDown']);

/** Sections whose name starts with this (any case) belong to ferry's later features. */
export const FERRY_SECTION_PREFIX = 'ferry';

/** wg-quick's rule for interface names (and so for config file names): IFNAMSIZ - 1 characters. */
export const INTERFACE_NAME = /^[a-zA-Z0-9_=+.-]{1,15}$/;

/** Where a bare interface name is looked up, in order. */
export const CONFIG_DIRS = ['/etc/ferry', '/etc/wireguard'] as const;

/** wg's char_is_space: the characters it deletes from every line before parsing. */
export const WG_SPACE = /[ \t\n\v\f\r]/g;

/** Linux's bounds for a TUN interface MTU (ETH_MIN_MTU .. 65535). */
export const MTU_MIN = 68;
export const MTU_MAX = 65535;

/** A key file holds one base64 key and maybe whitespace: anything longer is not a key file. */
export const KEY_FILE_MAX_BYTES = 1024;

/** Values quoted back in messages are cut to this many characters. */
export const QUOTE_MAX = 80;
