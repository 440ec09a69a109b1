/** Writer and operator ids: printable, no spaces, so they fit log lines and signature records. */
export const WRITER_ID_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9._:@/-]{0,126}[A-Za-z0-9])?$/;
