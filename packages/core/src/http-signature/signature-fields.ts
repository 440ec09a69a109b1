import { RemembrancerError } from '../errors.js';
import {
  isSfInnerList,
  isSfKey,
  parseSfDictionary,
  serializeSfDictionary,
  sfBinary,
  sfItem,
  type SfDictionary,
  type SfInnerList,
} from './structured-field.js';
import { combineFieldLines, type HeaderValue } from './field-value.js';

/** One labelled signature taken from the Signature-Input and Signature fields (RFC 9421 §4). */
export interface SignatureField {
  readonly label: string;
  /** The Signature-Input member: covered component identifiers plus signature parameters. */
  readonly input: SfInnerList;
  /** The Signature member: the raw signature bytes. */
  readonly signature: Uint8Array;
}

/** Signature-Input and Signature are short headers; anything longer is refused unparsed. */
export const MAX_SIGNATURE_FIELD_LENGTH = 8192;

function malformed(why: string, cause?: unknown): never {
  throw new RemembrancerError(
    'SIGNATURE_INPUT_MALFORMED',
    `malformed signature fields: ${why}`,
    cause === undefined ? undefined : { cause },
  );
}

function parseField(name: string, value: string): SfDictionary {
  try {
    return parseSfDictionary(value, { maxLength: MAX_SIGNATURE_FIELD_LENGTH });
  } catch (cause) {
    return malformed(`${name} is not a valid structured field dictionary`, cause);
  }
}

/**
 * Extracts the signature labelled `label` from the Signature-Input and Signature field values
 * (attacker-controlled), with no opinion on which components or parameters it carries; see
 * parseSignatureHeaders for the peer profile. Both fields must be present and carry the same set
 * of labels (§4: "the presence of a label in one field but not in the other is an error"); labels
 * are unique (a repeated label is refused by the dictionary parser); the labelled Signature-Input
 * member must be an Inner List of String items and the Signature member a Byte Sequence without
 * parameters. Fails with SIGNATURE_MISSING when the fields or the label are absent and with
 * SIGNATURE_INPUT_MALFORMED otherwise.
 */
export function parseSignatureFields(fields: {
  signatureInput: HeaderValue;
  signature: HeaderValue;
  label: string;
}): SignatureField {
  const { label } = fields;
  if (!isSfKey(label))
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      `signature label ${JSON.stringify(label)} is not a structured field key`,
    );
  const inputValue = combineFieldLines(fields.signatureInput);
  const signatureValue = combineFieldLines(fields.signature);
  if ((inputValue === undefined || inputValue === '') && (signatureValue === undefined || signatureValue === '')) {
    throw new RemembrancerError('SIGNATURE_MISSING', 'the request carries no Signature-Input and Signature fields');
  }
  if (inputValue === undefined || inputValue === '') malformed('Signature field without Signature-Input');
  if (signatureValue === undefined || signatureValue === '') malformed('Signature-Input field without Signature');
  const inputs = parseField('Signature-Input', inputValue);
  const signatures = parseField('Signature', signatureValue);
  for (const l of inputs.keys())
    if (!signatures.has(l)) malformed(`label ${JSON.stringify(l)} is in Signature-Input but not in Signature`);
  for (const l of signatures.keys())
    if (!inputs.has(l)) malformed(`label ${JSON.stringify(l)} is in Signature but not in Signature-Input`);
  const input = inputs.get(label);
  const signature = signatures.get(label);
  if (input === undefined || signature === undefined) {
    throw new RemembrancerError('SIGNATURE_MISSING', `no signature labelled ${JSON.stringify(label)}`);
  }
  if (!isSfInnerList(input)) malformed(`Signature-Input member ${label} is not an inner list`);
  for (const item of input.items) {
    if (item.value.type !== 'string')
      malformed(`Signature-Input member ${label} covers a component identifier that is not a string`);
  }
  if (isSfInnerList(signature) || signature.value.type !== 'binary')
    malformed(`Signature member ${label} is not a byte sequence`);
  if (signature.params.size > 0) malformed(`Signature member ${label} has parameters`);
  return { label, input, signature: signature.value.value };
}

/** The Signature-Input and Signature field values carrying one labelled signature. */
export function formatSignatureFields(
  label: string,
  input: SfInnerList,
  signature: Uint8Array,
): { 'signature-input': string; signature: string } {
  if (!isSfKey(label))
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      `signature label ${JSON.stringify(label)} is not a structured field key`,
    );
  return {
    'signature-input': serializeSfDictionary(new Map([[label, input]])),
    signature: serializeSfDictionary(new Map([[label, sfItem(sfBinary(signature))]])),
  };
}
