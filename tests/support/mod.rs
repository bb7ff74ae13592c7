//! Shared helpers of the end-to-end tests: a real upstream server ([`upstream`]) and the
//! real `rollgate` binary started on ephemeral ports ([`process`]), config files for it
//! ([`config`]), and the edge with two upstreams in one call ([`shop`]). Include with `mod support;`.
#![allow(dead_code)]

pub mod config;
pub mod load;
pub mod process;
pub mod serve;
pub mod shop;
pub mod upstream;
