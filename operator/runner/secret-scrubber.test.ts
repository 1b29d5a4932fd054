import { describe, expect, it } from 'vitest';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import { SecretScrubber } from './secret-scrubber.ts';

describe('SecretScrubber', () => {
  it('removes passwords, seeds and recovery codes wherever they occur', () => {
    const scrubber = new SecretScrubber();
    scrubber.add(new SecretValue('hunter2-horse'));
    scrubber.add(new SecretValue(['abcde-12345', 'fffff-00000']));
    expect(scrubber.scrub('fill("hunter2-horse") then abcde-12345,fffff-00000')).toBe(
      'fill("[redacted]") then [redacted],[redacted]',
    );
  });

  it('removes a numeric code only as a whole number', () => {
    const scrubber = new SecretScrubber();
    scrubber.add(new SecretValue('123456'));
    expect(scrubber.scrub('{"value":"123456","time":91234567}')).toBe('{"value":"[redacted]","time":91234567}');
  });

  it('removes a secret also as a JSON line or a URL carries it', () => {
    const scrubber = new SecretScrubber();
    scrubber.add(new SecretValue('pa"ss\\w&rd'));
    expect(scrubber.scrub(JSON.stringify({ msg: 'typed pa"ss\\w&rd' }))).toBe('{"msg":"typed [redacted]"}');
    expect(scrubber.scrub(`POST /login?p=${encodeURIComponent('pa"ss\\w&rd')}`)).toBe('POST /login?p=[redacted]');
  });

  it('ignores values too short to scrub safely', () => {
    const scrubber = new SecretScrubber();
    scrubber.add(new SecretValue('ab'));
    expect(scrubber.scrub('table')).toBe('table');
  });
});
