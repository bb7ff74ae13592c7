//! The serialisable routing spec: services, rollouts' routing, experiments, audience rules and
//! edge-local settings, each with validation that reports every problem with its path.

pub(crate) mod check;
pub(crate) mod edge;
pub(crate) mod experiment;
pub(crate) mod rollout;
pub(crate) mod routing;
pub(crate) mod rule;
pub(crate) mod service;
