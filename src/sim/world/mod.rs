//! The world of a region: its objects and how they move, apart from the API
//! that serves them.

pub mod clock;
pub mod faults;
pub mod history;
pub mod objects;
pub mod region;
pub mod scenario;
pub mod store;
