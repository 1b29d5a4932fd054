/** The app's name in messages and conditions. */
export const APP = 'django-two-factor-auth';
