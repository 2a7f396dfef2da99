/** The package version `anyserve --version` prints (test/cli_test.ts keeps it equal to package.json's). */
export const VERSION = "0.1.0";
