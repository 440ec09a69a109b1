#!/usr/bin/env node
// Compiled by `npm install` (the root prepare script runs tsc -b).
import '../dist/bin.js';
