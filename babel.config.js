// Jest transforms TypeScript with Babel: TypeScript 7 has no compiler API, so ts-jest cannot run.
module.exports = {
  presets: [['@babel/preset-env', { targets: { node: 'current' } }], '@babel/preset-typescript'],
};
