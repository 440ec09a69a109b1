import { anchoringAtScale } from './harness/anchoring-scale-scenario.js';

// Issue 10 item 12: "Tests with real processes: 3- and 5-node federations with real openssl TSAs
// and 20 namespaces across the nodes: one TSA request per epoch per target (counted at the TSA),
// every federation receipt verified; [...] `openssl ts -verify` accepts every stored token."
// The 5-node federation (the other size runs in its own file, in parallel).
anchoringAtScale(5);
