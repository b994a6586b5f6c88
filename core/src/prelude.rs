//! What the standard prelude gives and `alloc` has: the crate is `no_std` without its `std`
//! feature (the wasm client), so each module that allocates imports this.

pub use alloc::borrow::ToOwned;
pub use alloc::boxed::Box;
pub use alloc::string::{String, ToString};
pub use alloc::vec;
pub use alloc::vec::Vec;
