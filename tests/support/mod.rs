//! Shared helpers of the end-to-end tests, for every test binary with `mod support;`: child
//! processes signalled and awaited by PID ([`process`]), the real `rollgate` binary started on
//! ephemeral ports as an edge ([`edge`]), as `rollgate serve` ([`serve`]) or run as a client
//! ([`cli`]), config files for it ([`config`]), real upstreams ([`upstream`], and
//! [`recording`] which records what it served), HTTP load ([`load`]), and the edge with two
//! upstreams in one call ([`shop`]).
#![allow(dead_code)]

pub mod cli;
pub mod config;
pub mod edge;
pub mod load;
pub mod process;
pub mod recording;
pub mod serve;
pub mod shop;
pub mod upstream;
