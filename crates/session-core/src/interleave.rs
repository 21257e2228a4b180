//! Named points in the writer and the checkpoint handshake where the
//! deterministic interleaving tests switch threads. In builds other than
//! the crate's own tests a point is an empty function, inlined away.

/// A point where another thread may run (in the interleaving tests).
#[inline(always)]
pub(crate) fn point(name: &'static str) {
    let _ = name;
}
