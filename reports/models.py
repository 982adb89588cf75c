# Source reports, extracted figures and rollup snapshots live here (see the reports issues).
