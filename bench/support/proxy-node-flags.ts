// The product's V8 flags for the proxy process (proxy/node-flags.ts), for the benches that start
// Faultline proxies, and the line each of them adds to its notes so every section says so.
import { PROXY_NODE_FLAGS } from '../../proxy/node-flags.ts';

export { PROXY_NODE_FLAGS };

export const PROXY_FLAGS_NOTE = `Faultline proxies ran with the V8 flags \`faultline proxy\` sets: \`${PROXY_NODE_FLAGS.join(' ')}\` (proxy/node-flags.ts).`;
