export { keycloakConnector as connector } from './connector.ts';
