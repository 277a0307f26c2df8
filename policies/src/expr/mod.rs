//! Expressions: `@(...)` and `@{...}` (being built).
