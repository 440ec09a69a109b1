export * from './tlog-policy.js';
export * from './parse-tlog-policy.js';
export * from './format-tlog-policy.js';
export * from './evaluate-tlog-policy.js';
export * from './policy-cosigners.js';
