import { ErrorCode, FerryError } from '../errors.js';
import { QUOTE_MAX } from './constants.js';

/** One problem in a config file. line is 1-based; 0 means the file as a whole. */
export interface ConfigIssue {
  file: string;
  line: number;
  message: string;
}

/** "wg0.conf:7: message", or "wg0.conf: message" for the file as a whole. */
export function formatIssue(issue: ConfigIssue): string {
  return issue.line > 0 ? `${issue.file}:${issue.line}: ${issue.message}` : `${issue.file}: ${issue.message}`;
}

/**
 * A rejected config: every problem found in the file, not just the first, so one edit can
 * fix them all. The message is the issues, one per line.
 */
export class ConfigError extends FerryError {
  readonly errors: ConfigIssue[];
  constructor(errors: ConfigIssue[]) {
    super(ErrorCode.Config, errors.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.errors = errors;
  }
}

export function isConfigError(err: unknown): err is ConfigError {
  return err instanceof ConfigError;
}

/** Collects the issues of one file. */
export class IssueList {
  readonly errors: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];
  constructor(readonly file: string) {}

  error(line: number, message: string): void {
    this.errors.push({ file: this.file, line, message });
  }

  warn(line: number, message: string): void {
    this.warnings.push({ file: this.file, line, message });
  }

  /** Throws a ConfigError carrying every error, in line order, if there is any. */
  throwIfAny(): void {
    if (this.errors.length === 0) return;
    throw new ConfigError([...this.errors].sort((a, b) => a.line - b.line));
  }
}

/** A value quoted for a message: never used for key material, cut when long. */
export function quote(value: string): string {
  const v = value.length > QUOTE_MAX ? `${value.slice(0, QUOTE_MAX)}…` : value;
  return JSON.stringify(v);
}
