/**
 * Mailchimp's collection reads answer one page: `count` items (default 10, at most 1000) from
 * `offset`, with `total_items` for the whole collection
 * (https://mailchimp.com/developer/marketing/docs/methods-parameters/#pagination). A first page
 * alone misses everything after it (an audience with more than 1,000 tags has more than 1,000
 * static segments), so every page is read, one request each.
 */
export const PAGE_SIZE = 1000;

export interface Page<T> {
  items: T[];
  /** `total_items` of the answer, when it had one. */
  total: number | undefined;
}

/**
 * @example
 * const fields = await readAllPages(async (count, offset) => {
 *   const answer = await getListMergeFields(listId, { count, offset });
 *   return { items: answer.merge_fields, total: answer.total_items };
 * });
 */
export async function readAllPages<T>(
  readPage: (count: number, offset: number) => Promise<Page<T>>,
): Promise<T[]> {
  const all: T[] = [];
  for (;;) {
    const { items, total } = await readPage(PAGE_SIZE, all.length);
    all.push(...items);
    // Without total_items only a full page says there may be more; an empty page always ends it.
    const more = total === undefined ? items.length === PAGE_SIZE : all.length < total;
    if (items.length === 0 || !more) return all;
  }
}
