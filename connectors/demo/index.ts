export { demoConnector as connector } from './connector.ts';
