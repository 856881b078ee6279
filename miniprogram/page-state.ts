// What a page instance holds besides its render data: objects it talks to, a picked file, a page
// of its own. Kept in a WeakMap by instance, off `data`, so none of it is ever sent to the view.

export interface PageStates<T> {
  set(page: object, state: T): void;
  /** The page's state; throws when the page is used before onLoad set it. */
  of(page: object): T;
  /** The page's state, if it has one yet (onShow may come before onLoad has finished). */
  find(page: object): T | undefined;
  delete(page: object): void;
}

export function pageStates<T>(pageName: string): PageStates<T> {
  const states = new WeakMap<object, T>();
  return {
    set: (page, state) => {
      states.set(page, state);
    },
    of(page) {
      const state = states.get(page);
      if (state === undefined) throw new Error(`${pageName} used before onLoad`);
      return state;
    },
    find: (page) => states.get(page),
    delete: (page) => {
      states.delete(page);
    },
  };
}
