//! The process allocator: the first allocations of a run come from a fixed arena in
//! .bss, the rest from the system allocator (musl's, in the static builds).
//!
//! Why: musl's allocator maps every buffer of 16 KiB or more, and a group for each size
//! class, with its own `mmap`, and unmaps them again on the way out: a refresh made 22
//! `mmap` and 19 `munmap` calls where the floor contender of `make bench` makes 4. A
//! single refresh needs a few hundred KiB in all, so an arena that never returns to the
//! kernel serves it with no system call at all. Long runs (a fleet, `--watch`) fill the
//! arena within their first files and then live on the system allocator, so their
//! memory stays flat: the arena is a fixed cost, never a growing one.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Enough for any single refresh: measured 124 KB of it with `--cacert`, 341 KB with the
/// built-in roots, 385 KB with the system bundle (145 certificates) as SSL_CERT_FILE.
const ARENA: usize = 512 * 1024;
/// The arena's own alignment; a larger one goes to the system allocator.
const ALIGN: usize = 4096;

#[repr(C, align(4096))]
struct Memory(UnsafeCell<[u8; ARENA]>);

// SAFETY: bytes of the arena are only handed out through `USED`, whose compare-exchange
// gives each range to one allocation at a time.
unsafe impl Sync for Memory {}

/// Zero-initialised, so it lives in .bss: no bytes in the binary, no page until touched.
static MEMORY: Memory = Memory(UnsafeCell::new([0; ARENA]));
/// Bytes of the arena in use from its start: allocation moves it up, freeing the
/// topmost allocation moves it back down; other frees leave a hole until exit.
static USED: AtomicUsize = AtomicUsize::new(0);

pub(crate) struct Arena;

fn base() -> usize {
    MEMORY.0.get().addr()
}

/// The offset of `ptr` in the arena, if it is one of ours.
fn offset_of(ptr: *mut u8) -> Option<usize> {
    ptr.addr().checked_sub(base()).filter(|&at| at < ARENA)
}

/// Takes `size` bytes aligned to `align` from the top of the arena.
fn bump(size: usize, align: usize) -> Option<*mut u8> {
    if align > ALIGN {
        return None;
    }
    let mut used = USED.load(Ordering::Relaxed);
    loop {
        // `base()` is aligned to ALIGN, so aligning the offset aligns the address.
        let start = used.checked_next_multiple_of(align)?;
        let end = start.checked_add(size).filter(|&end| end <= ARENA)?;
        match USED.compare_exchange_weak(used, end, Ordering::AcqRel, Ordering::Relaxed) {
            // The arena's own pointer, moved: no address is turned back into a pointer.
            Ok(_) => return Some(MEMORY.0.get().cast::<u8>().wrapping_add(start)),
            Err(now) => used = now,
        }
    }
}

// SAFETY: every pointer handed out is either a range of the arena given to one
// allocation only (see `bump`) and aligned as asked, or the system allocator's own.
unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match bump(layout.size(), layout.align()) {
            Some(ptr) => ptr,
            // SAFETY: the caller's layout, passed on unchanged.
            None => unsafe { System.alloc(layout) },
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        match bump(layout.size(), layout.align()) {
            Some(ptr) => {
                // SAFETY: `bump` gave us layout.size() bytes at `ptr`. A given-back range
                // may hold old bytes, so zero it even where the page is still fresh.
                unsafe { std::ptr::write_bytes(ptr, 0, layout.size()) };
                ptr
            }
            // SAFETY: the caller's layout, passed on unchanged (calloc's fresh pages).
            None => unsafe { System.alloc_zeroed(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match offset_of(ptr) {
            Some(at) => {
                // Only the topmost allocation can be given back; a failed exchange means
                // another one is above it, and its bytes stay unused until exit.
                let end = at + layout.size();
                let _ = USED.compare_exchange(end, at, Ordering::AcqRel, Ordering::Relaxed);
            }
            // SAFETY: not ours, so the system allocator's, with the layout it was given.
            None => unsafe { System.dealloc(ptr, layout) },
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Some(at) = offset_of(ptr) else {
            // SAFETY: the system allocator's pointer and layout, passed on unchanged.
            return unsafe { System.realloc(ptr, layout, new_size) };
        };
        // The topmost allocation grows or shrinks where it is (a Vec being filled).
        let end = at + layout.size();
        if let Some(new_end) = at.checked_add(new_size).filter(|&e| e <= ARENA)
            && USED
                .compare_exchange(end, new_end, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            return ptr;
        }
        if new_size <= layout.size() {
            return ptr;
        }
        // SAFETY: GlobalAlloc's contract: new_size is non-zero and, rounded up to the
        // alignment, does not overflow isize.
        let bigger = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: a valid layout (above).
        let new = unsafe { self.alloc(bigger) };
        if !new.is_null() {
            // SAFETY: both ranges are live, distinct allocations of at least
            // layout.size() bytes.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size());
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    //! The test harness allocates from the same arena on other threads, so these check
    //! what holds whatever else is allocated meanwhile: alignment, contents, ownership.
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn allocations_are_aligned_disjoint_and_keep_their_bytes() {
        let mut live = Vec::new();
        for (i, align) in [1, 2, 8, 16, 64, 4096]
            .into_iter()
            .cycle()
            .take(60)
            .enumerate()
        {
            let l = layout(1 + i * 7, align);
            let ptr = unsafe { Arena.alloc(l) };
            assert!(!ptr.is_null());
            assert_eq!(ptr as usize % align, 0);
            unsafe { std::ptr::write_bytes(ptr, i as u8, l.size()) };
            live.push((ptr, l, i as u8));
        }
        for &(ptr, l, byte) in &live {
            let bytes = unsafe { std::slice::from_raw_parts(ptr, l.size()) };
            assert!(bytes.iter().all(|&b| b == byte));
        }
        for (ptr, l, _) in live.into_iter().rev() {
            unsafe { Arena.dealloc(ptr, l) };
        }
    }

    #[test]
    fn realloc_keeps_the_bytes_whether_it_moves_or_not() {
        let l = layout(16, 8);
        let mut ptr = unsafe { Arena.alloc(l) };
        unsafe { std::ptr::write_bytes(ptr, 0xab, 16) };
        let mut size = 16;
        for new_size in [64, 4096, 100_000, 40, 700_000] {
            ptr = unsafe { Arena.realloc(ptr, layout(size, 8), new_size) };
            assert!(!ptr.is_null());
            let kept = size.min(new_size).min(16);
            let bytes = unsafe { std::slice::from_raw_parts(ptr, kept) };
            assert!(bytes.iter().all(|&b| b == 0xab), "{new_size}");
            size = new_size;
        }
        // 700,000 bytes cannot be in a 512 KiB arena.
        assert_eq!(offset_of(ptr), None);
        unsafe { Arena.dealloc(ptr, layout(size, 8)) };
    }

    #[test]
    fn zeroed_memory_is_zero_even_where_it_was_used_before() {
        let l = layout(512, 8);
        for _ in 0..50 {
            let a = unsafe { Arena.alloc(l) };
            unsafe { std::ptr::write_bytes(a, 0xff, 512) };
            unsafe { Arena.dealloc(a, l) };
            let b = unsafe { Arena.alloc_zeroed(l) };
            let bytes = unsafe { std::slice::from_raw_parts(b, 512) };
            assert!(bytes.iter().all(|&x| x == 0));
            unsafe { Arena.dealloc(b, l) };
        }
    }

    #[test]
    fn what_does_not_fit_comes_from_the_system_allocator() {
        for l in [layout(ARENA + 1, 8), layout(64, 8192)] {
            let ptr = unsafe { Arena.alloc(l) };
            assert!(!ptr.is_null());
            assert_eq!(offset_of(ptr), None);
            assert_eq!(ptr as usize % l.align(), 0);
            unsafe { Arena.dealloc(ptr, l) };
        }
    }

    #[test]
    fn the_topmost_allocation_is_given_back() {
        // Retried: another thread may allocate between the two calls.
        let l = layout(256, 16);
        let reused = (0..100).any(|_| unsafe {
            let a = Arena.alloc(l);
            Arena.dealloc(a, l);
            let b = Arena.alloc(l);
            Arena.dealloc(b, l);
            a == b && offset_of(a).is_some()
        });
        assert!(reused || USED.load(Ordering::Relaxed) + 256 > ARENA);
    }

    #[test]
    fn threads_never_share_a_byte() {
        let handles: Vec<_> = (0..8u8)
            .map(|t| {
                std::thread::spawn(move || {
                    let mut mine = Vec::new();
                    for i in 0..2000usize {
                        let l = layout(1 + i % 97, 8);
                        let ptr = unsafe { Arena.alloc(l) };
                        assert!(!ptr.is_null());
                        unsafe { std::ptr::write_bytes(ptr, t, l.size()) };
                        mine.push((ptr as usize, l));
                        if i % 3 == 0 {
                            let (p, l) = mine.swap_remove(mine.len() / 2);
                            unsafe { Arena.dealloc(p as *mut u8, l) };
                        }
                    }
                    for &(p, l) in &mine {
                        let bytes = unsafe { std::slice::from_raw_parts(p as *const u8, l.size()) };
                        assert!(bytes.iter().all(|&b| b == t));
                    }
                    for (p, l) in mine {
                        unsafe { Arena.dealloc(p as *mut u8, l) };
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }
}
