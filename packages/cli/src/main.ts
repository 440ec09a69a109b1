import { Command, CommanderError } from 'commander';
import { registerInit } from './commands/init-command.js';
import { registerNs } from './commands/ns-command.js';
import { registerReadCommands } from './commands/read-commands.js';
import { registerRecord } from './commands/record-command.js';
import { registerServe } from './commands/serve-command.js';
import { registerVerify } from './commands/verify-command.js';
import { registerDemo } from './commands/demo-command.js';
import { registerFederation } from './commands/federation-command.js';
import { registerKeys } from './commands/keys-command.js';
import { registerAnchor } from './commands/anchor-command.js';
import { registerMessage } from './commands/message-command.js';
import { registerMigrate } from './commands/migrate-command.js';
import { EXIT_FAILURE, EXIT_USAGE, UsageError, printError } from './output.js';

export function buildProgram(): Command {
  const program = new Command('remembrancer')
    .description('VaultMesh Remembrancer: verifiable, append-only memory logs')
    .version(process.env.npm_package_version ?? '0.1.0')
    .exitOverride()
    .showHelpAfterError();
  registerInit(program);
  registerServe(program);
  registerNs(program);
  registerRecord(program);
  registerReadCommands(program);
  registerVerify(program);
  registerDemo(program);
  registerFederation(program);
  registerKeys(program);
  registerAnchor(program);
  registerMessage(program);
  registerMigrate(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    printError({ json: argv.includes('--json') }, e);
    return e instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
  }
}
