import type {
  V1Container,
  V1Job,
  V1OwnerReference,
  V1Role,
  V1RoleBinding,
  V1Secret,
  V1ServiceAccount,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import type { ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import { API_VERSION, MANAGED_ACCOUNT_MFA, MANAGED_BY } from '../api/v1alpha1/resources.ts';
import type { CaBundle } from './ca-bundle-ref.ts';
import { RESULT_KEYS } from '../run-contract/result-secret.ts';
import { RUN_CONTRACT_VERSION, type JobAction, type RunSpec } from '../run-contract/run-spec.ts';
import { RUN_ANNOTATIONS, RUN_LABELS, requestLabel, runName, type RunIdentity } from './run-names.ts';
import type { RunnerSettings } from './runner-settings.ts';

const RUN_DIR = '/var/run/mfa-operator/run';
const CREDENTIALS_DIR = '/var/run/mfa-operator/credentials';
const CODE_SERVICE_TOKEN_DIR = '/var/run/mfa-operator/code-service';
/** The shortest lifetime the API server grants a projected token; kubelet renews it at 80%. */
const CODE_SERVICE_TOKEN_SECONDS = 600;

/** How runs reach the code service for sign-in codes from the store's seeds (public data only). */
export interface RunCodeService {
  /** https URL run pods reach the service at. */
  url: string;
  /** PEM CA bundle the runner trusts for it. */
  caBundle?: string;
  /** The audience of the token the pod gets (the service's --code-service-audience). */
  audience: string;
}

export interface RunObjects {
  serviceAccount: V1ServiceAccount;
  role: V1Role;
  roleBinding: V1RoleBinding;
  resultSecret: V1Secret;
  job: V1Job;
}

export interface RunInputs {
  mfa: ManagedAccountMfa;
  run: RunIdentity;
  trigger: string;
  credentialsVersion?: string;
  /** resourceVersion of spec.mfa.adoptFrom's Secret, for an adopt run: a change re-arms a failed adoption. */
  adoptionSourceVersion?: string;
  /** The checked CAs of spec.account.caBundleRef, which the run's browser trusts. */
  caBundle?: CaBundle;
  /** Set when the code service serves runs: the run spec names it and the pod gets a token for it. */
  codeService?: RunCodeService;
  settings: RunnerSettings;
}

/**
 * Everything one automation run needs, all named after the run. The pod runs as its own service account,
 * which may get and update only this run's result Secret, and whose token (for the code service's audience) gets
 * sign-in codes for this run's account only: no run ever holds a stored seed. No secret is in any spec: credentials
 * are mounted Secret files, the run spec is mounted from the result Secret.
 */
export function runObjects(inputs: RunInputs): RunObjects {
  const name = runName(inputs.run);
  const namespace = inputs.mfa.metadata.namespace!;
  const labels = runLabels(inputs);
  const metadata = { name, namespace, labels, ownerReferences: [ownerReference(inputs.mfa)] };
  return {
    serviceAccount: { apiVersion: 'v1', kind: 'ServiceAccount', metadata, automountServiceAccountToken: true },
    role: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata,
      rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: [name], verbs: ['get', 'update'] }],
    },
    roleBinding: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
    // Not owned by the resource: a garbage collector (a foreground deletion deletes dependents while the finalizer
    // holds) must never take the only copy of a seed before the harvest moved it. The harvest and the finalizer delete it.
    resultSecret: resultSecret(inputs, { name, namespace, labels }),
    job: job(inputs, name, namespace, labels),
  };
}

function runLabels({ mfa, run }: RunInputs): Record<string, string> {
  return {
    [RUN_LABELS.managedBy]: MANAGED_BY,
    [RUN_LABELS.component]: 'automation-run',
    [RUN_LABELS.account]: run.accountName.slice(0, 63).replace(/[-.]+$/, ''),
    [RUN_LABELS.accountUid]: run.accountUid,
    [RUN_LABELS.connector]: mfa.spec.connector,
    [RUN_LABELS.action]: run.action,
    [RUN_LABELS.generation]: String(run.generation),
    [RUN_LABELS.attempt]: String(run.attempt),
    ...(run.request !== undefined ? { [RUN_LABELS.request]: requestLabel(run.request) } : {}),
  };
}

function resultSecret(
  inputs: RunInputs,
  metadata: { name: string; namespace: string; labels: Record<string, string> },
): V1Secret {
  const { mfa, run } = inputs;
  const runSpec = {
    contractVersion: RUN_CONTRACT_VERSION,
    connector: mfa.spec.connector,
    ...(mfa.spec.account.loginUrl ? { loginUrl: mfa.spec.account.loginUrl } : {}),
    credentials: { usernameFile: `${CREDENTIALS_DIR}/username`, passwordFile: `${CREDENTIALS_DIR}/password` },
    sink: { type: 'kubernetes', namespace: metadata.namespace, secretName: metadata.name },
    action: run.action,
    ...(inputs.caBundle ? { caBundle: inputs.caBundle.pem } : {}),
    ...(inputs.codeService
      ? {
          codeService: {
            url: inputs.codeService.url,
            ...(inputs.codeService.caBundle ? { caBundle: inputs.codeService.caBundle } : {}),
            tokenFile: `${CODE_SERVICE_TOKEN_DIR}/token`,
            namespace: metadata.namespace,
            job: metadata.name,
          },
        }
      : {}),
  } satisfies RunSpec;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata,
    data: { [RESULT_KEYS.runSpec]: Buffer.from(JSON.stringify(runSpec)).toString('base64') },
  };
}

function job(inputs: RunInputs, name: string, namespace: string, labels: Record<string, string>): V1Job {
  const { mfa, settings } = inputs;
  const credentials = mfa.spec.account.credentialsSecretRef;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace,
      labels,
      ownerReferences: [ownerReference(mfa, true)],
      annotations: {
        [RUN_ANNOTATIONS.trigger]: inputs.trigger,
        [RUN_ANNOTATIONS.credentialsVersion]: inputs.credentialsVersion ?? '',
        // The request in full (its label is a digest): a rotation's annotation value, the check a verification is, or
        // what asked for a regeneration.
        ...(inputs.run.request !== undefined ? { [requestAnnotation(inputs.run.action)]: inputs.run.request } : {}),
        ...(inputs.caBundle ? { [RUN_ANNOTATIONS.caBundleVersion]: inputs.caBundle.resourceVersion } : {}),
        ...(inputs.adoptionSourceVersion !== undefined
          ? { [RUN_ANNOTATIONS.adoptionSourceVersion]: inputs.adoptionSourceVersion }
          : {}),
      },
    },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: settings.activeDeadlineSeconds,
      ttlSecondsAfterFinished: settings.ttlSecondsAfterFinished,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          serviceAccountName: name,
          automountServiceAccountToken: true,
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            runAsGroup: 65532,
            fsGroup: 65532,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          ...(settings.nodeSelector ? { nodeSelector: settings.nodeSelector } : {}),
          ...(settings.tolerations ? { tolerations: settings.tolerations } : {}),
          containers: [runnerContainer(inputs)],
          volumes: [
            {
              name: 'credentials',
              secret: {
                secretName: credentials.name,
                defaultMode: 0o400,
                items: [
                  { key: credentials.usernameKey ?? 'username', path: 'username' },
                  { key: credentials.passwordKey ?? 'password', path: 'password' },
                ],
              },
            },
            {
              name: 'run',
              secret: {
                secretName: name,
                defaultMode: 0o400,
                items: [{ key: RESULT_KEYS.runSpec, path: RESULT_KEYS.runSpec }],
              },
            },
            { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
            ...codeServiceToken(inputs.codeService).volumes,
          ],
        },
      },
    },
  };
}

/** The pod's one container: the image's runner, read-only root, no capabilities, the run's files mounted read-only. */
function runnerContainer(inputs: RunInputs): V1Container {
  const { mfa, settings } = inputs;
  return {
    name: 'runner',
    image: settings.image,
    ...(settings.imagePullPolicy ? { imagePullPolicy: settings.imagePullPolicy } : {}),
    command: [...settings.command, '--run-spec', `${RUN_DIR}/${RESULT_KEYS.runSpec}`],
    workingDir: settings.workingDir,
    env: [
      { name: 'HOME', value: '/tmp' },
      { name: 'TMPDIR', value: '/tmp' },
      ...(settings.connectorEnv?.[mfa.spec.connector] ?? []),
    ],
    resources: settings.resources,
    terminationMessagePolicy: 'File',
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [
      { name: 'credentials', mountPath: CREDENTIALS_DIR, readOnly: true },
      { name: 'run', mountPath: RUN_DIR, readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
      ...codeServiceToken(inputs.codeService).mounts,
    ],
  };
}

/** The pod's token for the code service: bound to the pod and for that audience only (the API server refuses it), dying with the pod. */
function codeServiceToken(codeService: RunCodeService | undefined): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  if (!codeService) return { volumes: [], mounts: [] };
  return {
    volumes: [
      {
        name: 'code-service-token',
        projected: {
          defaultMode: 0o400,
          sources: [
            {
              serviceAccountToken: {
                audience: codeService.audience,
                expirationSeconds: CODE_SERVICE_TOKEN_SECONDS,
                path: 'token',
              },
            },
          ],
        },
      },
    ],
    mounts: [{ name: 'code-service-token', mountPath: CODE_SERVICE_TOKEN_DIR, readOnly: true }],
  };
}

export function ownerReference(mfa: ManagedAccountMfa, controller = false): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: MANAGED_ACCOUNT_MFA.kind,
    name: mfa.metadata.name!,
    uid: mfa.metadata.uid!,
    controller,
    blockOwnerDeletion: false,
  };
}

function requestAnnotation(action: JobAction): string {
  if (action === 'verify') return RUN_ANNOTATIONS.verifySlot;
  return action === 'regenerate' ? RUN_ANNOTATIONS.regenerateRequest : RUN_ANNOTATIONS.rotateRequest;
}
