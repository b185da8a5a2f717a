//! The cross-language demo's constants and helpers, as `shmipc_demo.h` defines them.

use crate::c::{DEMO_DEFAULT_APP, DEMO_DEFAULT_SERVER, DEMO_FRAME_FLOATS, DEMO_MSG_MAX};
use crate::echo::c_str;

/// float32 values per frame (1 MiB).
pub const FRAME_FLOATS: usize = DEMO_FRAME_FLOATS as usize;

/// The longest message of the demo's protocol.
pub const MSG_MAX: usize = DEMO_MSG_MAX as usize;

/// The server's default name ("demo").
pub fn default_server() -> &'static str {
    c_str(DEMO_DEFAULT_SERVER)
}

/// The clients' default app name ("viewer").
pub fn default_app() -> &'static str {
    c_str(DEMO_DEFAULT_APP)
}

/// The sum of the values, in a double (exact for the frames' small integers, in any order):
/// eight sums side by side, which the compiler turns into vector additions.
pub fn sum(values: &[f32]) -> f64 {
    let mut lanes = [0f64; 8];
    let chunks = values.chunks_exact(8);
    let rest: f64 = chunks.remainder().iter().map(|&v| f64::from(v)).sum();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += f64::from(v);
        }
    }
    lanes.iter().sum::<f64>() + rest
}

/// CLOCK_MONOTONIC in nanoseconds: the clock the C and Python processes stamp with.
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given, which lives on this stack
    // frame for the whole call; CLOCK_MONOTONIC is always available on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_are_the_headers() {
        assert_eq!(FRAME_FLOATS, 1 << 18);
        assert_eq!(default_server(), "demo");
        assert_eq!(default_app(), "viewer");
        assert_eq!(sum(&[1.0, 2.0, 250.0]), 253.0);
        let (a, b) = (now_ns(), now_ns());
        assert!(a > 0 && b >= a);
    }
}
