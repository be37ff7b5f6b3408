/** For src/datapath/datapath.test.ts until it imports src/uapi/errors.ts (the UAPI codec moved to src/uapi/). */
export { UapiErrno, UapiError } from '../uapi/errors.js';
