import { JobRunnerError } from './errors.ts';

type Requirement = { key: string; op: '=' | '!=' | 'exists' | '!exists'; value?: string };

/** Parses the equality-based label selectors kubectl accepts (`a=b,c!=d,e,!f`). */
export function parseSelector(selector: string): Requirement[] {
  return selector.split(',').map((part) => part.trim()).filter(Boolean).map((part): Requirement => {
    const match = /^(!?)([A-Za-z0-9._/-]+)\s*(?:(==|=|!=)\s*([A-Za-z0-9._-]*))?$/.exec(part);
    if (!match) throw new JobRunnerError('InvalidOptions', `--selector ${selector}: "${part}" is not an equality-based requirement (key, !key, key=value, key!=value)`);
    const [, not, key = '', op, value] = match;
    if (!op) return { key, op: not ? '!exists' : 'exists' };
    if (not) throw new JobRunnerError('InvalidOptions', `--selector ${selector}: "${part}" mixes ! with a value`);
    return { key, op: op === '!=' ? '!=' : '=', value };
  });
}

export function matchesSelector(requirements: readonly Requirement[], labels: Record<string, string> | undefined): boolean {
  return requirements.every(({ key, op, value }) => {
    const actual = labels?.[key];
    if (op === 'exists') return actual !== undefined;
    if (op === '!exists') return actual === undefined;
    if (op === '=') return actual === value;
    return actual !== value;
  });
}
