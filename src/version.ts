// Replaced at bundle time is not needed: kept in sync with package.json by test/version.test.ts.
export const VERSION = '0.1.0';
