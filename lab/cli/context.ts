import { loadCatalog, type Catalog } from '../images/catalog.js';

/** What every command group gets from main: the interrupt signal, the exit code, the catalog read once. */
export class CliContext {
  code = 0;
  private catalogRead?: Catalog;

  constructor(readonly signal: AbortSignal) {}

  /** images/catalog.yaml, read at most once per command. */
  get catalog(): Catalog {
    this.catalogRead ??= loadCatalog();
    return this.catalogRead;
  }
}
