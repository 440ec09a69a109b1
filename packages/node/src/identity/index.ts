export * from './key-file.js';
export * from './key-rotation.js';
