import type { Connector } from './connector.ts';

/** Loads a connector module on demand so a run imports only the automation it uses. */
export type ConnectorLoader = () => Promise<{ connector: Connector }>;

export class UnknownConnectorError extends Error {
  readonly reason = 'UnknownConnector';

  constructor(id: string, known: readonly string[]) {
    super(`No connector "${id}" (known: ${known.join(', ') || 'none'}); fix spec.connector.`);
    this.name = 'UnknownConnectorError';
  }
}

export class ConnectorRegistry {
  readonly #loaders: ReadonlyMap<string, ConnectorLoader>;

  constructor(loaders: Readonly<Record<string, ConnectorLoader>>) {
    this.#loaders = new Map(Object.entries(loaders));
  }

  ids(): string[] {
    return [...this.#loaders.keys()].sort();
  }

  has(id: string): boolean {
    return this.#loaders.has(id);
  }

  async load(id: string): Promise<Connector> {
    const loader = this.#loaders.get(id);
    if (!loader) throw new UnknownConnectorError(id, this.ids());
    const { connector } = await loader();
    // A registration line pointing at the wrong folder would otherwise run the wrong app's automation.
    if (connector.id !== id) throw new Error(`Connector registered as "${id}" reports id "${connector.id}".`);
    return connector;
  }
}
