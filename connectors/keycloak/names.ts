/** The app's name in messages and conditions. */
export const APP = 'Keycloak';

/** The label the operator gives the authenticator it enrolls, shown in the account console. */
export const DEVICE_NAME = 'mfa-operator';
