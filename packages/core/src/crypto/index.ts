import { cryptoProvider } from '#crypto';

export type { CryptoProvider } from './provider.js';
export const crypto = cryptoProvider;
