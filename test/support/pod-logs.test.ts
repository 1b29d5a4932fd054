import { describe, expect, it } from 'vitest';
import { criLogText } from './pod-logs.ts';

describe('CRI container logs as the container wrote them', () => {
  it('joins the parts of a line kubelet split, and keeps both streams in order', () => {
    const file = [
      '2026-12-02T01:00:00.000000001Z stdout P {"msg":"first half ',
      '2026-12-02T01:00:00.000000002Z stdout F second half"}',
      '2026-12-02T01:00:00.000000003Z stderr F warning: x',
      '',
    ].join('\n');
    expect(criLogText(file)).toBe('{"msg":"first half second half"}\nwarning: x\n');
  });
});
