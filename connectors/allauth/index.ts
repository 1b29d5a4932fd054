export { allauthConnector as connector } from './connector.ts';
