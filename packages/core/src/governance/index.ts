export * from './governance-document.js';
export * from './governance-operators.js';
export * from './build-governance.js';
export * from './governance-state.js';
export * from './governance-replay.js';
export * from './governance-submission.js';
