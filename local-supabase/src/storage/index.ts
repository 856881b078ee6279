import type { Context, Product } from '../context';
import { sendJson } from '../http';

export function createStorage(_ctx: Context): Product {
  return { handle: async (_req, res) => sendJson(res, 404, { message: 'not implemented yet' }) };
}
