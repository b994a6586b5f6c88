//! The wasm's exports: [`Manager`]'s methods as plain functions over a pointer to it, called by
//! the hand-written `js/wasm.js`. wasm-bindgen's generated class would cost, per method, a
//! shim in the wasm (argument conversions, a `RefCell` borrow check, a `Result` of it) and
//! one in the JavaScript glue (see SIZE_LEVERS.md, row 45). In the shipped build (feature
//! `plain-imports`) also the wasm's imports — the clock, the host's JSON and base64
//! (`js/host.js`) — are plain functions that `js/wasm.js` provides, and it instantiates the
//! module itself: no wasm-bindgen at all (SIZE_LEVERS.md, row 46).
//!
//! The only module with `unsafe` code in this crate: taking over the buffers the glue wrote
//! into wasm memory, the pointer to a manager the glue holds, and the imports.
//!
//! The protocol between them, which `js/wasm.js` follows:
//! - Bytes (strings as UTF-8 from `TextEncoder`, attachments, frames) are copied by the glue
//!   into a block it allocates with [`sk_alloc`]`(len, 1)` (the global allocator, `Layout`
//!   of `len` bytes aligned to 1), and passed as `(ptr, len)`; the function it is passed to
//!   takes the block over (frees it). `ptr` 0 is "none" (a block from `sk_alloc` is never at
//!   0, even for `len` 0: it is then the dangling pointer 1). Options (f64s) likewise,
//!   allocated with `sk_alloc(8 * n, 8)`.
//! - A manager is a [`Slot`] boxed by [`sk_new`] and freed by [`sk_free`] once (the glue's
//!   `FinalizationRegistry`, when its JavaScript object is unreachable: no call follows).
//! - What a call answers in bytes (records, a query's text) is left in the slot's `out`;
//!   the call returns its length (negative: none) and [`sk_out`] where it is. The glue
//!   copies it before its next call.
//! - The imports (module `sk`, `plain-imports`): `json`, `b64decode` and `b64encode` read
//!   their input at `(ptr, len)` (UTF-8 text, or bytes), keep their answer (UTF-8 text from
//!   `TextEncoder`, or bytes) and return its length (negative: none); the wasm then
//!   allocates that many bytes and `take` copies the kept answer there. `now` is
//!   `performance.now()`.
//!
//! No call re-enters another: the wasm calls no JavaScript that calls it back (its imports
//! are the clock, `JSON.parse`/`stringify` and `atob`/`btoa`), so the `&mut` to a slot taken
//! by one call is the only one while it lasts.

use crate::Manager;
use alloc::alloc::{alloc, handle_alloc_error, Layout};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

/// A manager and its last answer.
pub struct Slot {
    manager: Manager,
    out: Vec<u8>,
}

/// The slot behind `m`.
///
/// # Safety
/// `m` comes from [`sk_new`] and was not passed to [`sk_free`]; no other reference to it lives.
unsafe fn slot<'a>(m: *mut Slot) -> &'a mut Slot {
    // SAFETY: the caller's contract: a live slot from `Box::into_raw`, not aliased (see the
    // module's documentation).
    unsafe { &mut *m }
}

/// Takes over the `len` bytes the glue wrote at `ptr`; `None` if `ptr` is null.
///
/// # Safety
/// `ptr` is null or a block of `len` bytes from `sk_alloc(len, 1)`, not used after.
unsafe fn bytes(ptr: *mut u8, len: usize) -> Option<Vec<u8>> {
    // SAFETY: the caller's contract: a block of the global allocator with the layout of a
    // `Vec<u8>` of capacity `len` (`len` bytes, alignment 1), all `len` bytes written by the
    // glue, owned by nobody else.
    (!ptr.is_null()).then(|| unsafe { Vec::from_raw_parts(ptr, len, len) })
}

/// Takes over the UTF-8 text the glue wrote at `ptr` (`TextEncoder`'s output); `None` if
/// `ptr` is null.
///
/// # Safety
/// As [`bytes`], and the bytes are UTF-8.
unsafe fn text(ptr: *mut u8, len: usize) -> Option<String> {
    // SAFETY: the caller's contract (as `bytes`); `TextEncoder.encode` writes UTF-8 only (a
    // lone surrogate becomes U+FFFD).
    unsafe { bytes(ptr, len).map(|b| String::from_utf8_unchecked(b)) }
}

/// Takes over the `n` f64s the glue wrote at `ptr`.
///
/// # Safety
/// `ptr` is a block of `8 * n` bytes from `sk_alloc(8 * n, 8)`, holding `n` f64s,
/// not used after.
unsafe fn f64s(ptr: *mut f64, n: usize) -> Vec<f64> {
    // SAFETY: the caller's contract: the layout of a `Vec<f64>` of capacity `n` (`8 * n`
    // bytes, alignment 8), initialised, owned by nobody else.
    unsafe { Vec::from_raw_parts(ptr, n, n) }
}

/// Leaves `answer` in the slot: its length, or -1 for none.
fn answer(s: &mut Slot, answer: Option<Vec<u8>>) -> i32 {
    match answer {
        Some(a) => {
            s.out = a;
            s.out.len() as i32
        }
        None => -1,
    }
}

/// A block of `len` bytes aligned to `align` (a power of two) for the glue to write into,
/// taken over by the call it is passed to; the dangling pointer `align` if `len` is 0.
#[no_mangle]
pub extern "C" fn sk_alloc(len: usize, align: usize) -> *mut u8 {
    let Ok(layout) = Layout::from_size_align(len, align) else {
        // Not a layout the glue asks for (1 or 8, sizes of JavaScript arrays).
        core::arch::wasm32::unreachable()
    };
    if len == 0 {
        return align as *mut u8;
    }
    // SAFETY: `layout` has a non-zero size.
    let ptr = unsafe { alloc(layout) };
    if ptr.is_null() {
        handle_alloc_error(layout);
    }
    ptr
}

/// [`Manager::new`] with the `n` options at `opts`.
///
/// # Safety
/// See the module's documentation.
#[no_mangle]
pub unsafe extern "C" fn sk_new(opts: *mut f64, n: usize, seed: f64) -> *mut Slot {
    // SAFETY: `opts` from the glue (see the module's documentation).
    let opts = unsafe { f64s(opts, n) };
    Box::into_raw(Box::new(Slot {
        manager: Manager::new(&opts, seed),
        out: Vec::new(),
    }))
}

/// Frees the manager `m`.
///
/// # Safety
/// See the module's documentation; `m` is not used after.
#[no_mangle]
pub unsafe extern "C" fn sk_free(m: *mut Slot) {
    // SAFETY: `m` from `Box::into_raw` in `sk_new`, freed once (the glue's registry).
    drop(unsafe { Box::from_raw(m) });
}

/// Where the last answer of `m` is.
///
/// # Safety
/// See the module's documentation.
#[no_mangle]
pub unsafe extern "C" fn sk_out(m: *mut Slot) -> *const u8 {
    // SAFETY: a live slot (see the module's documentation).
    unsafe { slot(m) }.out.as_ptr()
}

/// [`Manager::command`].
///
/// # Safety
/// See the module's documentation.
#[no_mangle]
pub unsafe extern "C" fn sk_command(m: *mut Slot, kind: u32, nsp: *mut u8, len: usize) {
    // SAFETY: a live slot and a block from the glue (see the module's documentation).
    let (s, nsp) = unsafe { (slot(m), text(nsp, len)) };
    s.manager
        .command(kind as u8, nsp.as_deref().unwrap_or_default());
}

/// [`Manager::provide_auth`]: 1 if accepted, else 0.
///
/// # Safety
/// See the module's documentation.
#[no_mangle]
pub unsafe extern "C" fn sk_provide_auth(
    m: *mut Slot,
    nsp: *mut u8,
    nsp_len: usize,
    auth: *mut u8,
    auth_len: usize,
) -> u32 {
    // SAFETY: a live slot and blocks from the glue (see the module's documentation).
    let (s, nsp, auth) = unsafe { (slot(m), text(nsp, nsp_len), text(auth, auth_len)) };
    s.manager
        .provide_auth(nsp.as_deref().unwrap_or_default(), auth) as u32
}

/// [`Manager::reconfigure`] with the `n` options at `opts`.
///
/// # Safety
/// See the module's documentation.
#[no_mangle]
pub unsafe extern "C" fn sk_reconfigure(m: *mut Slot, opts: *mut f64, n: usize) {
    // SAFETY: a live slot and a block from the glue (see the module's documentation).
    let (s, opts) = unsafe { (slot(m), f64s(opts, n)) };
    s.manager.reconfigure(&opts);
}

/// [`Manager::emit`].
///
/// # Safety
/// See the module's documentation.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn sk_emit(
    m: *mut Slot,
    nsp: *mut u8,
    nsp_len: usize,
    data: *mut u8,
    data_len: usize,
    att: *mut u8,
    att_len: usize,
    flags: u32,
    n: f64,
) -> f64 {
    // SAFETY: a live slot and blocks from the glue (see the module's documentation).
    let (s, nsp, data, att) = unsafe {
        (
            slot(m),
            text(nsp, nsp_len),
            text(data, data_len),
            bytes(att, att_len),
        )
    };
    s.manager.emit(
        nsp.as_deref().unwrap_or_default(),
        data.unwrap_or_default(),
        att.as_deref().unwrap_or_default(),
        flags as u8,
        n,
    )
}

/// [`Manager::socket`], its answer left in the slot.
///
/// # Safety
/// See the module's documentation.
#[no_mangle]
pub unsafe extern "C" fn sk_socket(m: *mut Slot, nsp: *mut u8, len: usize) -> i32 {
    // SAFETY: a live slot and a block from the glue (see the module's documentation).
    let (s, nsp) = unsafe { (slot(m), text(nsp, len)) };
    let a = s.manager.socket(nsp.as_deref().unwrap_or_default());
    answer(s, a.map(String::into_bytes))
}

/// [`Manager::engine`], its answer left in the slot.
///
/// # Safety
/// See the module's documentation.
#[no_mangle]
pub unsafe extern "C" fn sk_engine(m: *mut Slot) -> i32 {
    // SAFETY: a live slot (see the module's documentation).
    let s = unsafe { slot(m) };
    let a = s.manager.engine();
    answer(s, a.map(String::into_bytes))
}

/// [`Manager::input`]: 1, or 0 if dropped.
///
/// # Safety
/// See the module's documentation.
#[no_mangle]
pub unsafe extern "C" fn sk_input(
    m: *mut Slot,
    kind: u32,
    generation: f64,
    text_ptr: *mut u8,
    text_len: usize,
    data: *mut u8,
    data_len: usize,
) -> u32 {
    // SAFETY: a live slot and blocks from the glue (see the module's documentation).
    let (s, t, d) = unsafe { (slot(m), text(text_ptr, text_len), bytes(data, data_len)) };
    s.manager.input(kind as u8, generation, t, d) as u32
}

/// [`Manager::drain`], the records left in the slot: their length.
///
/// # Safety
/// See the module's documentation.
#[no_mangle]
pub unsafe extern "C" fn sk_drain(m: *mut Slot) -> i32 {
    // SAFETY: a live slot (see the module's documentation).
    let s = unsafe { slot(m) };
    let records = s.manager.drain();
    answer(s, Some(records))
}

#[cfg(feature = "plain-imports")]
#[link(wasm_import_module = "sk")]
extern "C" {
    #[link_name = "now"]
    fn sk_now() -> f64;
    #[link_name = "json"]
    fn sk_json(text: *const u8, len: usize, op: u32, key: *const u8, key_len: usize) -> i32;
    #[link_name = "b64decode"]
    fn sk_b64decode(text: *const u8, len: usize) -> i32;
    #[link_name = "b64encode"]
    fn sk_b64encode(data: *const u8, len: usize) -> i32;
    #[link_name = "take"]
    fn sk_take(out: *mut u8);
}

/// The answer of `n` bytes the host kept (none if `n` is negative), copied into a new `Vec`.
#[cfg(feature = "plain-imports")]
fn taken(n: i32) -> Option<Vec<u8>> {
    let n = usize::try_from(n).ok()?;
    let mut v = Vec::with_capacity(n);
    // SAFETY: `take` writes the `n` bytes of the answer the host kept at the start of the
    // block, of capacity `n` (see the module's documentation), and nothing else.
    unsafe {
        sk_take(v.as_mut_ptr());
        v.set_len(n);
    }
    Some(v)
}

/// The text answer of `n` bytes the host kept, as [`taken`].
#[cfg(feature = "plain-imports")]
fn taken_text(n: i32) -> Option<String> {
    // SAFETY: the host's text answers are `TextEncoder`'s output: UTF-8.
    taken(n).map(|b| unsafe { String::from_utf8_unchecked(b) })
}

/// `performance.now()`.
#[cfg(feature = "plain-imports")]
pub fn now() -> f64 {
    // SAFETY: an import with no arguments that touches no memory.
    unsafe { sk_now() }
}

/// `js/host.js`'s `json` (see [`sockeye_core::host::Host::json`]).
#[cfg(feature = "plain-imports")]
pub fn json(text: &str, op: u8, key: &str) -> Option<String> {
    // SAFETY: the host reads `text` and `key` (live for the call) and writes nothing.
    let n = unsafe {
        sk_json(
            text.as_ptr(),
            text.len(),
            op.into(),
            key.as_ptr(),
            key.len(),
        )
    };
    taken_text(n)
}

/// `js/host.js`'s `b64decode` (see [`sockeye_core::host::Host::b64decode`]).
#[cfg(feature = "plain-imports")]
pub fn b64decode(text: &str) -> Option<Vec<u8>> {
    // SAFETY: the host reads `text` (live for the call) and writes nothing.
    taken(unsafe { sk_b64decode(text.as_ptr(), text.len()) })
}

/// `js/host.js`'s `b64encode` (see [`sockeye_core::host::Host::b64encode`]).
#[cfg(feature = "plain-imports")]
pub fn b64encode(data: &[u8]) -> String {
    // SAFETY: the host reads `data` (live for the call) and writes nothing.
    let n = unsafe { sk_b64encode(data.as_ptr(), data.len()) };
    taken_text(n).unwrap_or_default()
}
