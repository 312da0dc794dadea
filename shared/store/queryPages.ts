import type { Container, ItemDefinition, SqlQuerySpec } from '@azure/cosmos';
import type { RequestMeter } from './requestMeter.js';

/** A query's results page by page, each page metered (a failed page is a round trip too). */
export async function* queryPages<T = ItemDefinition>(container: Container, meter: RequestMeter, query: SqlQuerySpec, pageSize: number): AsyncGenerator<T[]> {
  const iterator = container.items.query<ItemDefinition>(query, { maxItemCount: pageSize });
  while (iterator.hasMoreResults()) {
    let page;
    try {
      page = await iterator.fetchNext();
      meter.record(page);
    } catch (error) {
      meter.recordError(error);
      throw error;
    }
    yield (page.resources ?? []) as T[];
  }
}
