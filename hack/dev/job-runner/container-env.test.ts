import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { containerArgv, containerEnvironment, expandReferences, type ObjectReader } from './container-env.ts';

const vars = new Map([['NAME', 'run-1'], ['EMPTY', '']]);

describe('expandReferences (kubelet $(VAR) expansion)', () => {
  it.each([
    ['plain', 'plain'],
    ['$(NAME)', 'run-1'],
    ['a-$(NAME)-b', 'a-run-1-b'],
    ['$(MISSING)', '$(MISSING)'],
    ['$$(NAME)', '$(NAME)'],
    ['$$', '$'],
    ['cost $5', 'cost $5'],
    ['$(NAME', '$(NAME'],
    ['end$', 'end$'],
    ['$(EMPTY)x', 'x'],
  ])('%s -> %s', (input, expected) => {
    expect(expandReferences(input, vars)).toBe(expected);
  });
});

describe('containerEnvironment', () => {
  const pod: V1Pod = {
    metadata: { name: 'job-abcde', namespace: 'ns', uid: 'u1', labels: { app: 'x' } },
    spec: { nodeName: 'local', containers: [] },
  };
  const reader: ObjectReader = {
    secretData: async (_ns, name) => (name === 'creds' ? { user: Buffer.from('alice') } : undefined),
    configMapData: async () => undefined,
  };

  it('resolves fieldRef, secretKeyRef and earlier variables, runtime variables first and overridable', async () => {
    const env = await containerEnvironment(pod, {
      name: 'c',
      env: [
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'LABEL', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'GREETING', value: 'hi-$(POD)-$(LATER)-$(HOST)' },
        { name: 'LATER', value: 'late' },
        { name: 'USER', valueFrom: { secretKeyRef: { name: 'creds', key: 'user' } } },
        { name: 'HOST', value: 'overridden' },
      ],
    }, reader, new Map([['HOST', '127.0.0.1']]));
    expect(Object.fromEntries(env)).toEqual({
      HOST: 'overridden', POD: 'job-abcde', LABEL: 'x', GREETING: 'hi-job-abcde-$(LATER)-127.0.0.1', LATER: 'late', USER: 'alice',
    });
  });

  it('waits (retryable) for a missing Secret key and fails at once on an unsupported field', async () => {
    await expect(containerEnvironment(pod, { name: 'c', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }] }, reader, new Map()))
      .rejects.toMatchObject({ reason: 'CreateContainerConfigError', retryable: true });
    await expect(containerEnvironment(pod, { name: 'c', env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.hostname' } } }] }, reader, new Map()))
      .rejects.toMatchObject({ reason: 'CreateContainerConfigError', retryable: false });
  });

  it('expands command and args against the final environment and needs a command', () => {
    expect(containerArgv({ name: 'c', command: ['node', '$(SCRIPT)'], args: ['--ns', '$(NS)'] }, new Map([['SCRIPT', 'main.js'], ['NS', 'a']])))
      .toEqual(['node', 'main.js', '--ns', 'a']);
    expect(() => containerArgv({ name: 'c', args: ['x'] }, new Map())).toThrow(/has no command/);
  });
});
