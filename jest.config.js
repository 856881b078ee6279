module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.[jt]s$': 'babel-jest' },
  transformIgnorePatterns: ['/node_modules/', '/miniprogram/vendor/'],
  testTimeout: 30000,
  maxWorkers: 2,
};
