/**
 * Checks on what arrives from the renderer (or the CLI) before the service acts on it: the
 * transport only guarantees JSON, not the shapes the contract promises (STYLE.md rule 6).
 */
import { MailError } from '../../shared/errors';

export type Record_ = Record<string, unknown>;

export function requireObject(value: unknown, what = 'The request'): Record_ {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MailError('INVALID_INPUT', `${what} must be an object.`);
  }
  return value as Record_;
}

export function requireString(request: Record_, field: string, options: { maxLength?: number } = {}): string {
  const value = request[field];
  const maxLength = options.maxLength ?? 10_000;
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw new MailError('INVALID_INPUT', `"${field}" must be a non-empty text of at most ${maxLength} characters.`);
  }
  return value;
}

export function optionalString(request: Record_, field: string): string | null {
  const value = request[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new MailError('INVALID_INPUT', `"${field}" must be a text.`);
  return value;
}

export function requireStringList(request: Record_, field: string, options: { allowEmpty?: boolean } = {}): string[] {
  const value = request[field];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item.length === 0)) {
    throw new MailError('INVALID_INPUT', `"${field}" must be a list of texts.`);
  }
  if (!options.allowEmpty && value.length === 0) throw new MailError('INVALID_INPUT', `"${field}" must not be empty.`);
  return value as string[];
}

export function optionalStringList(request: Record_, field: string): string[] {
  if (request[field] === undefined || request[field] === null) return [];
  return requireStringList(request, field, { allowEmpty: true });
}

export function requireInteger(request: Record_, field: string, minimum: number, maximum: number): number {
  const value = request[field];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum || value > maximum) {
    throw new MailError('INVALID_INPUT', `"${field}" must be a whole number from ${minimum} to ${maximum}.`);
  }
  return value;
}

export function optionalBoolean(request: Record_, field: string): boolean {
  const value = request[field];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new MailError('INVALID_INPUT', `"${field}" must be true or false.`);
  return value;
}

export function optionalEnum<T extends string>(request: Record_, field: string, allowed: readonly T[]): T | null {
  const value = request[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new MailError('INVALID_INPUT', `"${field}" must be one of: ${allowed.join(', ')}.`);
  }
  return value as T;
}
