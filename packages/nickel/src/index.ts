// The Nickel evaluator lands with its own issue (SPEC.md C6); this package is its home.
export {};
