export { giteaConnector as connector } from './connector.ts';
