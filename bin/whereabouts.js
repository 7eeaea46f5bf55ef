#!/usr/bin/env node
// The package's command-line entry: the headless client over the same service the UI uses.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain CommonJS launcher for the built CLI
require('../out/main/cli/main.js');
