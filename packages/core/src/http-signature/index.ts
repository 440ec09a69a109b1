export * from './structured-field.js';
export * from './field-value.js';
export * from './content-digest.js';
export * from './signature-base.js';
export * from './signature-fields.js';
export * from './peer-signature.js';
