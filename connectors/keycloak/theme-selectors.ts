/**
 * The elements of Keycloak's login theme the connector finds, by their selectors in the built-in
 * keycloak.v2 theme. A deployment whose own login theme renames some of them sets the Helm value
 * `connectors.keycloak.selectors` (name → selector; connectors/sdk/deployment-selectors.ts). The
 * connector also needs what every theme inherits from keycloak.v2's template.ftl: the page id on
 * `<body data-page-id="login-...">`. The account console is a single-page app, not themed this way.
 * Plain data, so the controller can check a setting's names without loading the connector.
 */
export const LOGIN_THEME_SELECTORS = {
  username: '#username',
  password: '#password',
  /** The submit button of the sign-in, one-time code and recovery code pages. */
  signIn: '#kc-login',
  otp: '#otp',
  /** One per authenticator, when the account has several. */
  otpDevice: '[id^="kc-otp-credential-"]',
  tryAnotherWay: '#try-another-way',
  recoveryCode: '#recoveryCodeInput',
  totpQr: '#kc-totp-secret-qr-code',
  totpShowKey: '#mode-manual',
  totpKey: '#kc-totp-secret-key',
  totpType: '#kc-totp-type',
  totpAlgorithm: '#kc-totp-algorithm',
  totpDigits: '#kc-totp-digits',
  totpPeriod: '#kc-totp-period',
  totpCode: '#totp',
  totpDeviceName: '#userLabel',
  totpSave: '#saveTOTPBtn',
  recoveryCodes: '#kc-recovery-codes-list',
  recoveryCodesSaved: '#kcRecoveryCodesConfirmationCheck',
  recoveryCodesSave: '#saveRecoveryAuthnCodesBtn',
  deleteConfirm: '#kc-accept',
  feedback: '.kc-feedback-text',
  pageTitle: '#kc-page-title',
} as const;
