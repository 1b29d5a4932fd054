export { djangoTwoFactorConnector as connector } from './connector.ts';
