import { createRequire } from 'node:module';
import type * as Undici from 'undici';

/**
 * The three parts of undici this program uses (the connection pool, the TLS connector and the
 * request call), loaded from undici's own modules rather than its index. The index also loads
 * fetch, WebSocket, the caches, the mocks and the proxy agents (and through them Node's bundled
 * copy of undici): about 100 ms of CPU in every tick, which loads none of them. undici has no
 * "exports" map, so its files can be loaded directly, but they are not its documented API: the
 * package-lock pins the version, and every end-to-end test goes through them.
 */
const require = createRequire(import.meta.url);

export const Agent = require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
export type Agent = Undici.Agent;
export const buildConnector = require('undici/lib/core/connect.js') as typeof Undici.buildConnector;
export type Connector = Undici.buildConnector.connector;

const apiRequest = require('undici/lib/api/api-request.js') as (this: Undici.Dispatcher, opts: Undici.Dispatcher.RequestOptions) => Promise<Undici.Dispatcher.ResponseData>;

export type RequestOptions = Omit<Undici.Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & { method: Undici.Dispatcher.HttpMethod };

/** undici's `request(url, { dispatcher, … })`: the URL split into origin and path, as its index does. */
export function request(dispatcher: Undici.Dispatcher, url: string, opts: RequestOptions): Promise<Undici.Dispatcher.ResponseData> {
  const u = new URL(url);
  return apiRequest.call(dispatcher, { ...opts, origin: u.origin, path: `${u.pathname}${u.search}` });
}
