/**
 * Command-line parsing for the headless client: positional words plus `--name value` options,
 * repeated options collected in order. Unknown options are an error, never silently ignored.
 */
import { MailError } from '../../shared/errors';

export interface OptionSpec {
  /** `flag` takes no value; `value` takes one; `list` takes one and may repeat. */
  type: 'flag' | 'value' | 'list';
}

export interface ParsedArguments {
  positionals: string[];
  flags: Set<string>;
  values: Map<string, string>;
  lists: Map<string, string[]>;
}

export function parseArguments(argv: readonly string[], specs: Readonly<Record<string, OptionSpec>>): ParsedArguments {
  const parsed: ParsedArguments = { positionals: [], flags: new Set(), values: new Map(), lists: new Map() };
  for (let index = 0; index < argv.length; index++) {
    const word = argv[index];
    if (word === '--') {
      parsed.positionals.push(...argv.slice(index + 1));
      break;
    }
    if (!word.startsWith('--') || word === '--') {
      parsed.positionals.push(word);
      continue;
    }
    const equals = word.indexOf('=');
    const name = equals === -1 ? word.slice(2) : word.slice(2, equals);
    const spec = specs[name];
    if (!spec) throw new MailError('INVALID_INPUT', `Unknown option --${name}.`);
    if (spec.type === 'flag') {
      if (equals !== -1) throw new MailError('INVALID_INPUT', `The option --${name} takes no value.`);
      parsed.flags.add(name);
      continue;
    }
    let value: string | undefined;
    if (equals !== -1) value = word.slice(equals + 1);
    else {
      value = argv[index + 1];
      index++;
    }
    if (value === undefined) throw new MailError('INVALID_INPUT', `The option --${name} needs a value.`);
    if (spec.type === 'value') {
      if (parsed.values.has(name)) throw new MailError('INVALID_INPUT', `The option --${name} was given twice.`);
      parsed.values.set(name, value);
    } else {
      const list = parsed.lists.get(name) ?? [];
      list.push(value);
      parsed.lists.set(name, list);
    }
  }
  return parsed;
}

export function requireValue(parsed: ParsedArguments, name: string): string {
  const value = parsed.values.get(name);
  if (value === undefined || value === '') throw new MailError('INVALID_INPUT', `The option --${name} is required.`);
  return value;
}

export function requirePositionals(parsed: ParsedArguments, count: number, usage: string): string[] {
  if (parsed.positionals.length < count) throw new MailError('INVALID_INPUT', `Usage: ${usage}`);
  return parsed.positionals;
}
