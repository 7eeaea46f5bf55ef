#!/usr/bin/env node
// The package's command-line entry: the headless client over the same service the UI uses.
require('../out/main/cli/main.js');
