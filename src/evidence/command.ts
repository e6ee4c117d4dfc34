// `chipwatch verify-evidence`: reads the bundle and the pinned key, verifies, and maps the verdict to an exit code.
// Reads files but writes nothing: the CLI prints what it returns, so tests run it without a process.
import { readFile } from 'node:fs/promises';
import { PinError, pinFromFingerprint, pinFromKeyFile } from './pin.ts';
import { formatReport } from './report.ts';
import { type Verdict, verifyBundleBytes } from './verify.ts';

/** The exit codes, documented in docs/evidence-format.md. */
export const EXIT_CODES = { VERIFIED: 0, FAILED: 1, UNPINNED: 2, USAGE: 3 } as const satisfies Record<
  Verdict | 'USAGE',
  number
>;

export interface VerifyEvidenceOptions {
  json?: boolean;
  key?: string;
  keyFile?: string;
}

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const usage = (message: string): CommandResult => ({
  exitCode: EXIT_CODES.USAGE,
  stdout: '',
  stderr: `chipwatch verify-evidence: ${message}\n`,
});

export async function verifyEvidenceCommand(
  file: string,
  opts: VerifyEvidenceOptions,
): Promise<CommandResult> {
  if (opts.key !== undefined && opts.keyFile !== undefined)
    return usage('pass --key or --key-file, not both');
  let pinnedKey: string | undefined;
  try {
    if (opts.key !== undefined) pinnedKey = pinFromFingerprint(opts.key);
    if (opts.keyFile !== undefined) {
      let keyText: string;
      try {
        keyText = await readFile(opts.keyFile, 'utf8');
      } catch (e) {
        return usage(`cannot read the key file ${opts.keyFile} (${(e as Error).message})`);
      }
      pinnedKey = pinFromKeyFile(keyText, opts.keyFile);
    }
  } catch (e) {
    if (e instanceof PinError) return usage(e.message);
    throw e;
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    return usage(`cannot read ${file} (${(e as Error).message})`);
  }
  const report = verifyBundleBytes(bytes, pinnedKey === undefined ? {} : { pinnedKey });
  return {
    exitCode: EXIT_CODES[report.verdict],
    stdout: `${opts.json ? JSON.stringify(report, null, 2) : formatReport(report)}\n`,
    stderr: '',
  };
}
