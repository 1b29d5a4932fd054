import type {
  Condition,
  ManagedAccountMfa,
  RecoveryCodesStatus,
  RunRecord,
  StoredMaterialRef,
  TotpStatus,
} from '../../api/v1alpha1/types.generated.ts';

/** kubectl's way of showing an age: the largest unit, one number. */
export function age(timestamp: string | undefined, now: number): string {
  if (!timestamp) return '-';
  const seconds = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function where(ref: StoredMaterialRef | undefined): string {
  if (!ref) return '-';
  const store =
    ref.storeKind === 'Default' || !ref.storeKind ? 'default store' : `${ref.storeKind} ${ref.storeName ?? ''}`.trim();
  return `${ref.name ?? '?'} (${ref.provider ?? 'unknown provider'}, ${store}${ref.version ? `, version ${ref.version}` : ''})`;
}

/** Newest first: by start time, runs without one (not started yet) on top in the order written. */
function newestFirst(history: readonly RunRecord[]): RunRecord[] {
  return history
    .map((run, index) => ({ run, index }))
    .sort(
      (a, b) =>
        (Date.parse(b.run.startTime ?? '') || Infinity) - (Date.parse(a.run.startTime ?? '') || Infinity) ||
        b.index - a.index,
    )
    .map(({ run }) => run);
}

function conditionRows(conditions: readonly Condition[], now: number): string[][] {
  return conditions.map((c) => [c.type, c.status, c.reason, age(c.lastTransitionTime, now), c.message]);
}

function historyRows(history: readonly RunRecord[]): string[][] {
  return newestFirst(history).map((r) => [
    r.startTime ?? '-',
    r.completionTime ?? '-',
    r.trigger,
    r.outcome,
    r.reason ?? '-',
    // A recovery code hand-out has no Job: it names who got the code instead.
    r.job ?? (r.user ? `user ${r.user}` : '-'),
    r.message ?? '',
  ]);
}

function totpLine(totp: TotpStatus | undefined): string {
  if (!totp) return 'no seed stored';
  return `${totp.algorithm ?? '?'}, ${totp.digits ?? '?'} digits, ${totp.period ?? '?'} s; seed in ${where(totp.store)}; enrolled ${totp.enrolledAt ?? '-'}`;
}

function recoveryCodesLine(codes: RecoveryCodesStatus | undefined): string {
  if (!codes) return 'none stored';
  return `${codes.count ?? '?'} in ${where(codes.store)}; stored ${codes.storedAt ?? '-'}`;
}

function summary(mfa: ManagedAccountMfa): string[] {
  const status = mfa.status ?? {};
  return [
    `ManagedAccountMfa ${mfa.metadata.namespace}/${mfa.metadata.name}   connector ${mfa.spec.connector}   ` +
      `desired MFA ${mfa.spec.mfa?.state ?? 'Enabled'}, observed ${status.mfaState ?? 'Unknown'}`,
    `TOTP            ${totpLine(status.totp)}`,
    `Recovery codes  ${recoveryCodesLine(status.recoveryCodes)}`,
  ];
}

/** The audit trail of one ManagedAccountMfa, as `kubectl mfa status` prints it. */
export function statusReport(mfa: ManagedAccountMfa, now = Date.now()): string {
  const conditions = mfa.status?.conditions ?? [];
  const history = mfa.status?.history ?? [];
  const lines = [
    ...summary(mfa),
    '',
    'CONDITIONS',
    conditions.length
      ? table(['TYPE', 'STATUS', 'REASON', 'AGE', 'MESSAGE'], conditionRows(conditions, now))
      : '(none yet: the operator has not reconciled this resource)',
    '',
    'HISTORY (newest first)',
    history.length
      ? table(['STARTED', 'COMPLETED', 'TRIGGER', 'OUTCOME', 'REASON', 'JOB', 'MESSAGE'], historyRows(history))
      : '(no runs yet)',
  ];
  return `${lines.join('\n')}\n`;
}
