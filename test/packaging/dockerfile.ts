import { readFile } from 'node:fs/promises';

export interface Instruction {
  keyword: string;
  args: string;
  flags: Record<string, string>;
  line: number;
}
export interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Joins continued lines, drops comments and parser directives, and splits into build stages. */
export function parseDockerfile(text: string): Stage[] {
  const logical: Array<{ text: string; line: number }> = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, index) => {
    if (!pending && /^\s*(#|$)/.test(raw)) return;
    if (pending && /^\s*#/.test(raw)) return; // comments inside a continued RUN
    if (!pending) start = index + 1;
    pending += raw.replace(/\\\s*$/, ' ');
    if (!/\\\s*$/.test(raw)) {
      logical.push({ text: pending.trim(), line: start });
      pending = '';
    }
  });
  const stages: Stage[] = [];
  for (const { text: instruction, line } of logical) {
    const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(instruction) ?? [];
    const flags: Record<string, string> = {};
    let args = rest;
    for (let m = /^--([\w-]+)=(\S+)\s+/.exec(args); m; m = /^--([\w-]+)=(\S+)\s+/.exec(args)) {
      flags[m[1]!] = m[2]!;
      args = args.slice(m[0].length);
    }
    if (keyword.toUpperCase() === 'FROM') {
      const [, image = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ from: image, ...(name ? { name } : {}), instructions: [] });
    } else if (stages.length) {
      stages.at(-1)!.instructions.push({ keyword: keyword.toUpperCase(), args, flags, line });
    }
  }
  return stages;
}

export async function readDockerfile(path: string): Promise<Stage[]> {
  return parseDockerfile(await readFile(path, 'utf8'));
}

/** The exec form (JSON array) of ENTRYPOINT or CMD; the shell form is refused, as tini needs exec form. */
export function execForm(stage: Stage, keyword: 'ENTRYPOINT' | 'CMD'): string[] {
  const found = stage.instructions.filter((i) => i.keyword === keyword).at(-1);
  if (!found) return [];
  const parsed: unknown = JSON.parse(found.args);
  if (!Array.isArray(parsed)) throw new Error(`${keyword} on line ${found.line} is not in exec form`);
  return parsed as string[];
}

export function lastValue(stage: Stage, keyword: 'WORKDIR' | 'USER'): string | undefined {
  return stage.instructions.filter((i) => i.keyword === keyword).at(-1)?.args;
}

/** ENV instructions of a stage, KEY=value pairs (the form this Dockerfile uses). */
export function environment(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of stage.instructions.filter((x) => x.keyword === 'ENV')) {
    for (const [, key, value] of i.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[key!] = value!.replace(/^"|"$/g, '');
  }
  return env;
}
