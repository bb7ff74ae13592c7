//! Rollout state machine, ramp strategies and the reconcile step (clock injected).
