import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ApiClient } from './api-client.js';

export interface ConnectionOptions {
  url?: string;
  token?: string;
  tokenFile?: string;
  data?: string;
}

/** Adds the options every client command shares. */
export function withConnection(cmd: Command): Command {
  return cmd
    .option(
      '--url <url>',
      "node base URL (default: $REMEMBRANCER_URL, the --data node's listen address, or http://127.0.0.1:8080)",
    )
    .option('--token <token>', 'bearer token for writes (default: $REMEMBRANCER_TOKEN)')
    .option('--token-file <file>', 'file holding the bearer token')
    .option('--data <dir>', "a local node's data directory: its admin.token and listen address are used");
}

/** Resolves URL and token: flags first, then environment, then a local node's data directory. */
export function clientFrom(opts: ConnectionOptions): ApiClient {
  let url = opts.url ?? process.env.REMEMBRANCER_URL;
  let token = opts.token ?? process.env.REMEMBRANCER_TOKEN;
  if (opts.tokenFile) token = readFileSync(opts.tokenFile, 'utf8').trim();
  if (opts.data) {
    const cfg = join(opts.data, 'config.json');
    if (!url && existsSync(cfg)) {
      const listen = (JSON.parse(readFileSync(cfg, 'utf8')) as { listen?: string }).listen;
      if (listen) url = `http://${listen}`;
    }
    const tokenPath = join(opts.data, 'admin.token');
    if (!token && existsSync(tokenPath)) token = readFileSync(tokenPath, 'utf8').trim();
  }
  return new ApiClient({ url: url ?? 'http://127.0.0.1:8080', ...(token ? { token } : {}) });
}
