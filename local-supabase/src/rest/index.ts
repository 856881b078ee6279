import type { Context, Product } from '../context';
import { sendJson } from '../http';

export async function createRest(_ctx: Context): Promise<Product> {
  return { handle: async (_req, res) => sendJson(res, 404, { message: 'not implemented yet' }) };
}
