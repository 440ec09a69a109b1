// Runs a command (argv after this script) and ends it when this process's stdin closes.
//
// A dev chain must not outlive the process that started it, even one killed with SIGKILL, which
// runs no cleanup. bcoin-regtest-main.mjs watches its own stdin for that; anvil is a binary that
// does not, so dev-anvil.ts starts it through this script: the starter keeps our stdin open, the
// kernel closes it when the starter dies however it dies, and we then stop the command.
//
// The command's stdout and stderr are ours (the starter reads anvil's banner from them).
// SIGTERM and SIGINT are passed on; we exit with the command's code once it has exited.
import { spawn } from 'node:child_process';
import { setTimeout } from 'node:timers';

// A command that ignores SIGTERM after its starter died is killed this much later.
const KILL_AFTER_MS = 5_000;

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('exit-with-stdin: no command given\n');
  process.exit(2);
}

const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });

function stop(signal) {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
}

child.on('error', (err) => {
  process.stderr.write(`exit-with-stdin: ${command}: ${err.message}\n`);
  process.exit(1);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGTERM' || signal === 'SIGINT' ? 0 : 1)));
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
function orphaned() {
  stop('SIGTERM');
  setTimeout(() => stop('SIGKILL'), KILL_AFTER_MS).unref();
}
process.stdin.on('end', orphaned);
process.stdin.on('error', orphaned);
process.stdin.resume();
