/** `sigmax-ws`: the browser-safe client SDK and the protocol module. */
export * from './protocol/index.js';
export * from './client/index.js';
