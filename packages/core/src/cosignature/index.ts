export * from './cosigned-message.js';
export * from './cosignature-signer.js';
export * from './cosignature-verifier.js';
export * from './verify-cosignature.js';
