/**
 * The size and the two parts of a UDP endpoint record, the 48 bytes a batch carries per
 * datagram beside its packet. Here, below both, because the batch (buffer/) sizes its
 * arrays with them and the codec (io/endpoint.ts, which documents every byte) reads them.
 */
export const ENDPOINT_STRIDE = 48;
/** Bytes of the remote part, at the start of each record. */
export const ENDPOINT_REMOTE_SIZE = 24;
/** Where the local part starts in a record. */
export const ENDPOINT_LOCAL_OFFSET = 24;
