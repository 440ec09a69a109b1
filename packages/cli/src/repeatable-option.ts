/** Commander option parser for a repeatable option: every occurrence is kept, in order. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
