/**
 * The headless client: `whereabouts [--profile DIR] [--json] COMMAND …`, over the same service
 * the UI uses. Human-readable output by default, JSON with --json; a clear message and a
 * non-zero exit code on errors.
 */
import { toErrorPayload } from '../../shared/errors';
import { currentProfileEnvironment, parseLaunchOptions } from '../profile';
import { COMMANDS, usage } from './commands';
import type { CommandContext } from './commands';

async function main(argv: string[]): Promise<number> {
  const globalOptions: { profile?: string; json: boolean } = { json: false };
  const rest: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const word = argv[index];
    if (word === '--json') globalOptions.json = true;
    else if (word === '--profile') globalOptions.profile = argv[++index];
    else if (word.startsWith('--profile=')) globalOptions.profile = word.slice('--profile='.length);
    else rest.push(word);
  }
  const [name, ...args] = rest;
  if (!name || name === 'help' || name === '--help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`whereabouts: unknown command "${name}".\n\n${usage()}`);
    return 2;
  }
  const { profileDir } = parseLaunchOptions(
    globalOptions.profile === undefined ? [] : ['--profile', globalOptions.profile],
    currentProfileEnvironment(),
  );
  // The service (with the store, the protocols and their libraries) is loaded only for a command
  // that runs: `--help` and a mistyped command answer without it.
  const { createMailService } = await import('../service/create-service');
  const service = await createMailService({ profileDir, shell: 'cli', watch: false });
  const context: CommandContext = {
    service,
    json: globalOptions.json,
    tty: process.stdout.isTTY === true,
    print(text) {
      process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    },
    printJson(value) {
      process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    progress(text) {
      if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`);
    },
  };
  try {
    return await command.run(args, context);
  } finally {
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    await service.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const payload = toErrorPayload(error);
    process.stderr.write(`whereabouts: ${payload.message}${payload.code === 'INTERNAL' ? '' : ` (${payload.code})`}\n`);
    if (payload.details?.fingerprint) {
      process.stderr.write(`  certificate SHA-256: ${payload.details.fingerprint}\n`);
    }
    process.exitCode = 1;
  },
);
