//! The world of a region: its objects and how they move, apart from the API
//! that serves them.

pub mod build;
pub mod clock;
pub mod controllers;
pub mod custom;
pub mod deployment;
pub mod endpoints;
pub mod faults;
pub mod history;
pub mod hpa;
pub mod kubelet;
pub mod namespaces;
pub mod network;
pub mod objects;
pub mod region;
pub mod responder;
pub mod scenario;
pub mod shell;
pub mod store;

#[cfg(test)]
mod network_tests;
#[cfg(test)]
mod release_tests;
#[cfg(test)]
mod tests;
