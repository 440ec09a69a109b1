export { MAX_ENTRY_BYTES, MAX_ENTRY_DEPTH, MAX_RECEIPT_ENTRY_DEPTH, entryLeafData } from './entry-leaf-data.js';
