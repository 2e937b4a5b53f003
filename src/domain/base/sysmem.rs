//! Process memory upkeep: handing memory freed after a large load back to the operating system.
//! This is the only place nxr calls into the C library directly; it must never touch live data.

/// Gives memory freed after a large load (e.g. a 100,000-model catalog compacted into a
/// [`crate::domain::view::ModelList`]) back to the operating system. glibc otherwise keeps the freed
/// pages in the process, so the resident size stays at the peak of the load. A no-op elsewhere.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: malloc_trim only returns free pages to the kernel; it touches no live allocation.
        unsafe {
            malloc_trim(0);
        }
    }
}
