// The public API of @vaultmesh/cli, listed by hand: the `remembrancer` command as functions, for
// embedding it or driving it in-process (src/bin.ts runs main on process.argv).

// The command: its commander program, and a run that returns the exit code
export { buildProgram, main } from './main.js';
