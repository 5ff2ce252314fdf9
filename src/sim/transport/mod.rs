//! How a region is reached: TLS, the HTTP server (with the blackhole gate
//! under it), the fleet's admin endpoint, and the identity kept in a state
//! directory.

pub mod admin;
pub mod gate;
pub mod http;
pub mod metrics;
pub mod server;
pub mod state;
pub mod tls;
