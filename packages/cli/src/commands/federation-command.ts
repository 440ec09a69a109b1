import type { Command } from 'commander';
import { registerFederationRegistryCommands } from './federation-registry-commands.js';
import { registerFederationUp } from './federation-up-command.js';

export function registerFederation(program: Command): void {
  const federation = program
    .command('federation')
    .description('Anchor Federation: registry versions, status, and a local federation');
  registerFederationRegistryCommands(federation);
  registerFederationUp(federation);
}
