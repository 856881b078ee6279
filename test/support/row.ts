// Rows and JSON bodies that tests read back: each field is checked by expect(), so they are typed
// loosely here, once, instead of repeating the schema in every test.
// biome-ignore lint/suspicious/noExplicitAny: the test's assertions, not its types, check a row's fields
export type Row = Record<string, any>;
