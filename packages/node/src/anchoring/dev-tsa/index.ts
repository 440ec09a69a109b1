export * from './openssl-cli.js';
export * from './openssl-tsa-ca.js';
export * from './dev-tsa-server.js';
export * from './openssl-verify.js';
