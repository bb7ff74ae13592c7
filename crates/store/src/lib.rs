//! The Store trait and its SQLite implementation: rollouts, versions, decisions, tokens.
