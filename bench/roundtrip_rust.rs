//! bench/roundtrip_rust — the lend round trip through the Rust safe crate, beside C's.
//!
//! The loop is bench/roundtrip.c's: the server lends an object with a message ("x"), the
//! client receives and borrows it, reads its first and last byte, releases it and answers
//! with an empty message; the server receives the answer. Objects of 64 B, 64 KiB, 64 MiB
//! and 1 GiB are made once and their pages touched (the warm path), in the client app's
//! arena, so both pairs below lend the very same objects. Modes: blocking, and spinning
//! (200 us, shmipc_session_set_spin) on both sides.
//!
//! Two pairs are measured in the same run, alternating repetitions (and their order) so
//! that both see the same machine:
//!   - C: the server loop as direct calls of the C library (shmipc-sys: shmipc_send and
//!     shmipc_recv, exactly bench/roundtrip.c's), with bench/roundtrip.c's own client
//!     (`roundtrip --client NAME`, found through $SHMIPC_ROUNDTRIP_C) or, without it, the
//!     same client loop in direct C calls;
//!   - Rust: server and client through the safe crate (Session::send_with, Session::recv,
//!     Object, its Drop).
//!
//! It prints ns per round trip (median of 5 repetitions) and the ratio Rust / C (goal <=
//! 1.1). A benchmark, not a test: it exits non-zero only if a round trip failed.
//!
//!   roundtrip_rust [--quick]        (cargo bench passes --bench, which is ignored)

use std::ffi::c_void;
use std::hint::black_box;
use std::process::{Child, Command, ExitCode};
use std::ptr;
use std::time::{Duration, Instant};

use shmipc::{sys, ClientOptions, Object, ReadOnly, Server, ServerOptions, Session};

const MIB: usize = 1 << 20;
const GIB: usize = 1 << 30;
const SIZES: [usize; 4] = [64, 64 << 10, 64 * MIB, GIB];
const REPS: usize = 5;
const SPIN: Duration = Duration::from_micros(200);
const WAIT: Duration = Duration::from_secs(30);
/// The app name of bench/roundtrip.c's client: both clients share its app arena.
const APP: &str = "bench";

fn die(what: &str, err: impl std::fmt::Display) -> ! {
    eprintln!("roundtrip_rust: {what}: {err}");
    std::process::exit(1)
}

fn check(what: &str, rc: i32) {
    if rc != 0 {
        die(what, shmipc::Error::from_code(rc));
    }
}

// ---- the clients (this program re-executed) ---------------------------------------------

/// The client loop through the safe crate: borrow, read both ends, release, answer.
/// Spinning needs a core per spinner (a side sharing a core with its peer spins through
/// the peer's time slice), as in bench/roundtrip.c: while spinning, the server runs on the
/// first core this process may use and the client on the second. With one core, nothing.
fn pin_to(nth: usize) {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the calls get its true size and
    // only read or write that set.
    unsafe {
        let mut allowed: libc::cpu_set_t = std::mem::zeroed();
        let size = std::mem::size_of::<libc::cpu_set_t>();
        if libc::sched_getaffinity(0, size, &mut allowed) != 0 || libc::CPU_COUNT(&allowed) < 2 {
            return;
        }
        let cpus = (0..libc::CPU_SETSIZE as usize).filter(|&c| libc::CPU_ISSET(c, &allowed));
        if let Some(cpu) = cpus.into_iter().nth(nth) {
            let mut one: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut one);
            libc::sched_setaffinity(0, size, &one);
        }
    }
}

/// Back to every core: the affinity the process started with.
fn unpin(allowed: &libc::cpu_set_t) {
    // SAFETY: allowed is a valid set of the size given.
    unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), allowed) };
}

fn start_affinity() -> libc::cpu_set_t {
    // SAFETY: as in pin_to.
    unsafe {
        let mut allowed: libc::cpu_set_t = std::mem::zeroed();
        libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut allowed);
        allowed
    }
}

fn safe_client(name: &str) {
    let options = ClientOptions::new().timeout(Some(WAIT));
    let mut session = Session::connect(name, APP, &options).unwrap_or_else(|e| die("connect", e));
    let mut buf = [0u8; 16];
    loop {
        let msg = session
            .recv(&mut buf, None)
            .unwrap_or_else(|e| die("client recv", e));
        match &buf[..msg.len] {
            b"spin" => {
                pin_to(1);
                session.set_spin(SPIN)
            }
            b"end" => return,
            _ => {}
        }
        if let Some(object) = msg.object {
            black_box((object[0], object[object.len() - 1]));
        }
        session.send(b"").unwrap_or_else(|e| die("client send", e));
    }
}

/// The same loop as direct C calls (bench/roundtrip.c's client_main), for when that
/// program is not at hand.
fn c_calls_client(name: &str) {
    let session = Session::connect(name, APP, &ClientOptions::new().timeout(Some(WAIT)))
        .unwrap_or_else(|e| die("connect", e));
    let s = session.as_raw();
    let mut buf = [0u8; 16];
    loop {
        let (mut len, mut o) = (0usize, ptr::null_mut());
        // SAFETY: s is a live session; buf, len and o are valid out-pointers.
        let rc = unsafe { sys::shmipc_recv(s, buf.as_mut_ptr().cast(), 16, &mut len, &mut o, -1) };
        check("client recv", rc);
        match &buf[..len] {
            b"spin" => {
                pin_to(1);
                // SAFETY: s is live; no other thread uses the session.
                unsafe { sys::shmipc_session_set_spin(s, SPIN.as_micros() as u32) }
            }
            b"end" => return,
            _ => {}
        }
        if !o.is_null() {
            // SAFETY: o is a live borrowed handle of shmipc_obj_size readable bytes, and our
            // reference is dropped right after.
            unsafe {
                let p = sys::shmipc_obj_ptr(o).cast::<u8>();
                black_box((*p, *p.add(sys::shmipc_obj_size(o) - 1)));
                sys::shmipc_obj_unref(o);
            }
        }
        // SAFETY: s is live; an empty message.
        check("client send", unsafe {
            sys::shmipc_send(s, ptr::null(), 0, ptr::null_mut())
        });
    }
}

// ---- the server side ---------------------------------------------------------------------

/// One way of running the server's loop.
#[derive(Clone, Copy, PartialEq)]
enum Loop {
    /// Direct calls of the C library, as bench/roundtrip.c makes them.
    C,
    /// The safe crate.
    Rust,
}

/// `n` round trips with `object`, ns per round trip.
fn rounds(how: Loop, s: &Session, object: &Object<ReadOnly>, n: usize) -> f64 {
    let start = Instant::now();
    match how {
        Loop::C => {
            let (raw, obj) = (s.as_raw(), object.as_raw());
            let mut buf = [0u8; 16];
            for _ in 0..n {
                let mut len = 0usize;
                let x: *const c_void = b"x".as_ptr().cast();
                // SAFETY: the session and the object are live; buf and len are valid.
                unsafe {
                    check("server send", sys::shmipc_send(raw, x, 1, obj));
                    let answer = buf.as_mut_ptr().cast();
                    let rc = sys::shmipc_recv(raw, answer, 16, &mut len, ptr::null_mut(), 30000);
                    check("server recv", rc);
                }
            }
        }
        Loop::Rust => {
            let mut buf = [0u8; 16];
            for _ in 0..n {
                s.send_with(b"x", object)
                    .unwrap_or_else(|e| die("server send", e));
                s.recv(&mut buf, Some(WAIT))
                    .unwrap_or_else(|e| die("server recv", e));
            }
        }
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// One pair: its loop, its session, its client process.
struct Pair {
    how: Loop,
    session: Session,
    client: Child,
}

impl Pair {
    fn start(how: Loop, server: &Server, name: &str, c_client: Option<&str>) -> Pair {
        let me = std::env::current_exe().unwrap_or_else(|e| die("current_exe", e));
        let mut command = match (how, c_client) {
            (Loop::C, Some(program)) => Command::new(program),
            _ => Command::new(me),
        };
        command.args(match (how, c_client) {
            (Loop::C, Some(_)) => ["--client", name],
            (Loop::C, None) => ["--client-c-calls", name],
            (Loop::Rust, _) => ["--client-rust", name],
        });
        let client = command
            .spawn()
            .unwrap_or_else(|e| die("starting a client", e));
        let session = server
            .accept(Some(WAIT))
            .unwrap_or_else(|e| die("accept", e));
        Pair {
            how,
            session,
            client,
        }
    }

    /// Client and server side both spin from now on, each on a core of its own.
    fn spin(&mut self) {
        pin_to(0);
        self.session
            .send(b"spin")
            .unwrap_or_else(|e| die("send", e));
        self.session
            .recv(&mut [0; 16], Some(WAIT))
            .unwrap_or_else(|e| die("recv", e));
        self.session.set_spin(SPIN);
    }

    fn end(mut self) {
        self.session.send(b"end").unwrap_or_else(|e| die("send", e));
        self.client
            .wait()
            .unwrap_or_else(|e| die("waiting for a client", e));
    }
}

/// ns per round trip of one repetition with each object: blocking, then spinning.
fn repetition(mut pair: Pair, objects: &[Object<ReadOnly>], n: usize) -> (Vec<f64>, Vec<f64>) {
    let run = |pair: &Pair| -> Vec<f64> {
        objects
            .iter()
            .map(|object| {
                rounds(pair.how, &pair.session, object, n / 10); // warm-up
                rounds(pair.how, &pair.session, object, n)
            })
            .collect()
    };
    let allowed = start_affinity();
    let block = run(&pair);
    pair.spin();
    let spin = run(&pair);
    pair.end();
    unpin(&allowed);
    (block, spin)
}

/// Per size, the medians over REPS repetitions of [C, Rust] ns per round trip, blocking
/// and spinning. Each repetition starts fresh clients and the order of the two pairs
/// alternates, so that neither always runs first.
fn measure(
    server: &Server,
    name: &str,
    c_client: Option<&str>,
    objects: &[Object<ReadOnly>],
    n: usize,
) -> (Vec<[f64; 2]>, Vec<[f64; 2]>) {
    // samples[mode][size][pair]: one time per repetition
    let mut samples = vec![vec![[Vec::new(), Vec::new()]; objects.len()]; 2];
    for rep in 0..REPS {
        let order = if rep % 2 == 0 {
            [Loop::C, Loop::Rust]
        } else {
            [Loop::Rust, Loop::C]
        };
        for how in order {
            let pair = Pair::start(how, server, name, c_client);
            let (block, spin) = repetition(pair, objects, n);
            for (mode, times) in [block, spin].into_iter().enumerate() {
                for (size, time) in times.into_iter().enumerate() {
                    samples[mode][size][how as usize].push(time);
                }
            }
        }
    }
    let mut medians = samples.into_iter().map(|by_size| {
        by_size
            .into_iter()
            .map(|pairs| pairs.map(median))
            .collect::<Vec<_>>()
    });
    (medians.next().unwrap(), medians.next().unwrap())
}

fn size_name(size: usize) -> String {
    match size {
        s if s >= GIB => format!("{} GiB", s / GIB),
        s if s >= MIB => format!("{} MiB", s / MIB),
        s if s >= 1024 => format!("{} KiB", s / 1024),
        s => format!("{s} B"),
    }
}

/// Print the table; the Rust / C ratios of every size and mode.
fn report(block: &[[f64; 2]], spin: &[[f64; 2]]) -> Vec<f64> {
    println!(
        "\n{:<8} {:>12} {:>14} {:>8} {:>12} {:>14} {:>8}",
        "size", "C block us", "Rust block us", "Rust/C", "C spin us", "Rust spin us", "Rust/C"
    );
    let mut ratios = Vec::new();
    for ((size, [c_b, r_b]), [c_s, r_s]) in SIZES.iter().zip(block).zip(spin) {
        println!(
            "{:<8} {:>12.2} {:>14.2} {:>7.2}x {:>12.2} {:>14.2} {:>7.2}x",
            size_name(*size),
            c_b / 1e3,
            r_b / 1e3,
            r_b / c_b,
            c_s / 1e3,
            r_s / 1e3,
            r_s / c_s
        );
        ratios.extend([r_b / c_b, r_s / c_s]);
    }
    ratios
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["--client-rust", name] => return client_exit(safe_client, name),
        ["--client-c-calls", name] => return client_exit(c_calls_client, name),
        [] | ["--quick"] => {}
        _ => {
            eprintln!("usage: roundtrip_rust [--quick]");
            return ExitCode::from(2);
        }
    }
    let n = if args.is_empty() { 2000 } else { 200 };
    let c_client = std::env::var("SHMIPC_ROUNDTRIP_C")
        .ok()
        .filter(|p| std::path::Path::new(p).is_file());
    println!(
        "shmipc {} round trip, Rust (safe crate) vs C: {n} round trips x {REPS} repetitions \
         (median); C client: {}",
        shmipc::version(),
        c_client
            .as_deref()
            .unwrap_or("direct C calls (SHMIPC_ROUNDTRIP_C not set)")
    );

    let name = format!("bench-rt-rs-{}", std::process::id());
    let options = ServerOptions::new().app_arena_size(GIB + 256 * MIB);
    let server = Server::open(&name, &options).unwrap_or_else(|e| die("server_open", e));
    // The objects live in the app arena of "bench", which every session of that app shares.
    let first = Pair::start(Loop::Rust, &server, &name, None);
    let objects: Vec<Object<ReadOnly>> = (1..)
        .zip(SIZES)
        .map(|(fill, size)| {
            let arena = first.session.app_arena();
            let mut object = arena
                .new_object(size)
                .unwrap_or_else(|e| die("new_object", e));
            object.fill(fill); // warm: the pages exist
            object.into_read_only() // frozen: lent again and again
        })
        .collect();
    first.end();
    let (block, spin) = measure(&server, &name, c_client.as_deref(), &objects, n);

    let ratios = report(&block, &spin);
    let geomean = (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp();
    let worst = ratios.iter().copied().fold(0.0, f64::max);
    println!("\ngoals (reported, not enforced):");
    println!(
        "  {:<52} {:>10.2}  (goal <= 1.1)  {}",
        "Rust / C round trip, geometric mean of sizes and modes",
        geomean,
        if geomean <= 1.1 { "met" } else { "MISSED" }
    );
    println!("  (worst single size and mode: {worst:.2}; blocking round trips vary with wake-ups)");
    ExitCode::SUCCESS
}

fn client_exit(client: fn(&str), name: &str) -> ExitCode {
    client(name);
    ExitCode::SUCCESS
}
