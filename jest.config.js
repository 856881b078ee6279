module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.[jt]s$': 'babel-jest' },
  transformIgnorePatterns: ['/node_modules/', '/miniprogram/vendor/'],
  testTimeout: 30000,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  setupFiles: ['<rootDir>/scripts/quiet-node-warning.ts'],
  setupFilesAfterEnv: [
    '<rootDir>/test/support/close-open-clients.ts',
    '<rootDir>/test/support/one-auth-storage.ts',
    '<rootDir>/test/support/open-broadcast-channels.ts',
  ],
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
