//! bench/peers — shmipc beside Eclipse iceoryx2, two processes, same run (`make bench-peers`).
//!
//! Method (issue 17): the measuring process runs on the first core it may use, its peer on
//! the second; each direction carries a payload of SIZE bytes that the sender writes (its
//! first and last 8 bytes: a counter) and the receiver reads (both ends), made once and
//! warm; N round trips after N/10 warm-up ones, ns per round trip, median of 5 repetitions
//! whose order of systems rotates. Modes: spinning (shmipc: shmipc_session_set_spin 200 us
//! on both sides; iceoryx2: busy-polling `Subscriber::receive`) and blocking (shmipc: plain
//! `recv`; iceoryx2: an event service's `Listener::blocking_wait` after each sample).
//! Baseline: a Unix-socket ping-pong of one byte, pinned the same way.
//!
//! shmipc's objects are frozen once sent (`Object<ReadOnly>`); the owner writes its
//! counter through the object's pointer while no borrow is out (the peer has released it
//! before answering), as a producer reusing its buffer would.
//!
//!   bench_peers [--quick]          (--quick: 200 round trips, 3 repetitions)
//!   bench_peers --peer SYSTEM MODE SIZE NAME      (the peer process, started by the above)

use std::hint::black_box;
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::{Child, Command, ExitCode};
use std::time::{Duration, Instant};

use iceoryx2::port::listener::Listener;
use iceoryx2::port::notifier::Notifier;
use iceoryx2::port::publisher::Publisher;
use iceoryx2::port::subscriber::Subscriber;
use iceoryx2::prelude::*;
use shmipc::{sys, ClientOptions, Object, Provider, ReadOnly, Server, ServerOptions, Session};

const MIB: usize = 1 << 20;
const SIZES: [usize; 4] = [64, 64 << 10, MIB, 64 * MIB];
const SPIN: Duration = Duration::from_micros(200);
const WAIT: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, PartialEq, Debug)]
enum System {
    Ice,
    Lend,
    Shared,
    Socket,
}

impl System {
    fn name(self) -> &'static str {
        match self {
            System::Ice => "iceoryx2",
            System::Lend => "lend",
            System::Shared => "shared",
            System::Socket => "socket",
        }
    }
    fn parse(s: &str) -> System {
        match s {
            "iceoryx2" => System::Ice,
            "lend" => System::Lend,
            "shared" => System::Shared,
            _ => System::Socket,
        }
    }
}

fn die(what: &str, err: impl std::fmt::Debug) -> ! {
    eprintln!("bench_peers: {what}: {err:?}");
    std::process::exit(1)
}

/// This process on the nth core it may use (bench/roundtrip_rust.rs's rule); none with one core.
fn pin_to(nth: usize) {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the calls get its true size.
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

/// Write the counter at both ends of a payload, read it back from both ends.
fn stamp(p: *mut u8, len: usize, v: u64) {
    // SAFETY: p points to len >= 8 writable bytes no one else touches now.
    unsafe {
        p.cast::<u64>().write_unaligned(v);
        p.add(len - 8).cast::<u64>().write_unaligned(v);
    }
}

/// The counter read from both ends of a payload (they agree).
fn read_ends(bytes: &[u8]) -> u64 {
    let first = u64::from_ne_bytes(bytes[..8].try_into().unwrap());
    let last = u64::from_ne_bytes(bytes[bytes.len() - 8..].try_into().unwrap());
    black_box(first | last)
}

/// The counter that tells an iceoryx2 peer to end (its node then cleans up).
const END: u64 = u64::MAX;

// ---- one side of each system: `exchange` sends one payload and receives one -------------

trait Side {
    /// As the measuring side: send, then receive the answer.
    fn ping(&mut self, v: u64);
    /// As the peer: receive, then answer.
    fn pong(&mut self, v: u64) -> bool;
}

// shmipc through the safe crate.
struct ShmipcSide {
    session: Session,
    object: Object<ReadOnly>,
    buf: [u8; 16],
}

impl ShmipcSide {
    fn new(mut session: Session, size: usize, spin: bool) -> ShmipcSide {
        let mut object = session
            .arena()
            .new_object(size)
            .unwrap_or_else(|e| die("new_object", e));
        object.fill(1); // warm: its pages exist
        if spin {
            session.set_spin(SPIN);
        }
        ShmipcSide {
            session,
            object: object.into_read_only(),
            buf: [0; 16],
        }
    }
    fn send(&mut self, v: u64) {
        // SAFETY: the object is ours (writable in our mapping) and the peer released its
        // borrow of it before answering the previous message.
        let p = unsafe { sys::shmipc_obj_ptr(self.object.as_raw()) }.cast::<u8>();
        stamp(p, self.object.len(), v);
        self.session
            .send_with(b"x", &self.object)
            .unwrap_or_else(|e| die("shmipc send", e));
    }
    fn recv(&mut self) -> bool {
        match self.session.recv(&mut self.buf, Some(WAIT)) {
            Ok(msg) => {
                if let Some(object) = msg.object {
                    read_ends(&object);
                }
                msg.len == 1
            }
            Err(_) => false,
        }
    }
}

impl Side for ShmipcSide {
    fn ping(&mut self, v: u64) {
        self.send(v);
        if !self.recv() {
            die("shmipc recv", "no answer");
        }
    }
    fn pong(&mut self, v: u64) -> bool {
        if !self.recv() {
            return false;
        }
        self.send(v);
        true
    }
}

// iceoryx2: a publish-subscribe service each way, and for blocking an event service each way.
struct IceSide {
    _node: Node<ipc::Service>,
    publisher: Publisher<ipc::Service, [u8], ()>,
    subscriber: Subscriber<ipc::Service, [u8], ()>,
    wake: Option<(Notifier<ipc::Service>, Listener<ipc::Service>)>,
    size: usize,
}

impl IceSide {
    fn new(name: &str, size: usize, spin: bool, measuring: bool) -> IceSide {
        let node = NodeBuilder::new()
            .create::<ipc::Service>()
            .unwrap_or_else(|e| die("ice node", e));
        let (out, inn) = if measuring {
            ("ping", "pong")
        } else {
            ("pong", "ping")
        };
        let service = |dir: &str| {
            let name: ServiceName = format!("{name}/{dir}")
                .as_str()
                .try_into()
                .unwrap_or_else(|e| die("ice name", e));
            node.service_builder(&name)
                .publish_subscribe::<[u8]>()
                .max_publishers(1)
                .max_subscribers(1)
                .subscriber_max_buffer_size(1)
                .history_size(0)
                .open_or_create()
                .unwrap_or_else(|e| die("ice service", e))
        };
        let publisher = service(out)
            .publisher_builder()
            .initial_max_slice_len(size)
            .max_loaned_samples(1)
            .create()
            .unwrap_or_else(|e| die("ice publisher", e));
        let subscriber = service(inn)
            .subscriber_builder()
            .create()
            .unwrap_or_else(|e| die("ice subscriber", e));
        let wake = (!spin).then(|| {
            let event = |dir: &str| {
                let name: ServiceName = format!("{name}/{dir}-event")
                    .as_str()
                    .try_into()
                    .unwrap_or_else(|e| die("ice name", e));
                node.service_builder(&name)
                    .event()
                    .open_or_create()
                    .unwrap_or_else(|e| die("ice event", e))
            };
            let notifier = event(out)
                .notifier_builder()
                .create()
                .unwrap_or_else(|e| die("ice notifier", e));
            let listener = event(inn)
                .listener_builder()
                .create()
                .unwrap_or_else(|e| die("ice listener", e));
            (notifier, listener)
        });
        IceSide {
            _node: node,
            publisher,
            subscriber,
            wake,
            size,
        }
    }
    fn send(&mut self, v: u64) {
        let mut sample = self
            .publisher
            .loan_slice_uninit(self.size)
            .unwrap_or_else(|e| die("ice loan", e));
        stamp(sample.payload_mut().as_mut_ptr().cast(), self.size, v);
        // SAFETY: only the ends are written; the rest is the pool's earlier bytes, which
        // the receiver does not read (as with shmipc's reused object).
        let sample = unsafe { sample.assume_init() };
        sample.send().unwrap_or_else(|e| die("ice send", e));
        if let Some((notifier, _)) = &self.wake {
            notifier.notify().unwrap_or_else(|e| die("ice notify", e));
        }
    }
    fn recv(&mut self) -> u64 {
        loop {
            match self.subscriber.receive() {
                Ok(Some(sample)) => return read_ends(sample.payload()),
                Ok(None) => {}
                Err(e) => die("ice receive", e),
            }
            match &self.wake {
                Some((_, listener)) => {
                    listener
                        .timed_wait(|_| {}, WAIT)
                        .unwrap_or_else(|e| die("ice wait", e));
                }
                None => std::hint::spin_loop(),
            }
        }
    }
}

impl Side for IceSide {
    fn ping(&mut self, v: u64) {
        self.send(v);
        self.recv();
    }
    fn pong(&mut self, v: u64) -> bool {
        if self.recv() == END {
            return false;
        }
        self.send(v);
        true
    }
}

// The baseline: one byte each way over a Unix stream socket.
struct SocketSide(UnixStream);

impl Side for SocketSide {
    fn ping(&mut self, _: u64) {
        let mut b = [0u8];
        self.0
            .write_all(b"x")
            .unwrap_or_else(|e| die("socket write", e));
        self.0
            .read_exact(&mut b)
            .unwrap_or_else(|e| die("socket read", e));
    }
    fn pong(&mut self, _: u64) -> bool {
        let mut b = [0u8];
        if self.0.read_exact(&mut b).is_err() {
            return false;
        }
        self.0.write_all(b"x").is_ok()
    }
}

// ---- the peer process ---------------------------------------------------------------------

fn peer(system: System, spin: bool, size: usize, name: &str) {
    pin_to(1);
    match system {
        System::Ice => {
            let mut side = IceSide::new(name, size, spin, false);
            side.send(0); // ready: our subscriber exists
            while side.pong(1) {}
        }
        System::Lend | System::Shared => {
            let options = ClientOptions::new().timeout(Some(WAIT));
            let session =
                Session::connect(name, "peers", &options).unwrap_or_else(|e| die("connect", e));
            let mut side = ShmipcSide::new(session, size, spin);
            side.session
                .send(b"ready")
                .unwrap_or_else(|e| die("send", e));
            while side.pong(1) {}
        }
        System::Socket => {
            let stream = UnixStream::connect(name).unwrap_or_else(|e| die("connect", e));
            let mut side = SocketSide(stream);
            while side.pong(1) {}
        }
    }
}

// ---- the measuring process ----------------------------------------------------------------

fn start_peer(system: System, spin: bool, size: usize, name: &str) -> Child {
    let me = std::env::current_exe().unwrap_or_else(|e| die("current_exe", e));
    let mode = if spin { "spin" } else { "block" };
    let child = Command::new(me)
        .args(["--peer", system.name(), mode, &size.to_string(), name])
        .spawn()
        .unwrap_or_else(|e| die("starting the peer", e));
    pin_to(0); // only now: the peer inherits every core and takes the second
    child
}

fn timed(side: &mut dyn Side, n: usize) -> f64 {
    for v in 0..n / 10 {
        side.ping(v as u64); // warm-up
    }
    let start = Instant::now();
    for v in 0..n {
        side.ping(v as u64);
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

/// ns per round trip of one repetition of one system, mode and size; this process's
/// affinity is restored after (the next peer must inherit every core).
fn run(system: System, spin: bool, size: usize, n: usize, rep: usize) -> f64 {
    // SAFETY: a zeroed cpu_set_t is a valid set; the calls get its true size.
    unsafe {
        let mut allowed: libc::cpu_set_t = std::mem::zeroed();
        let size_of = std::mem::size_of::<libc::cpu_set_t>();
        libc::sched_getaffinity(0, size_of, &mut allowed);
        let t = run_pinned(system, spin, size, n, rep);
        libc::sched_setaffinity(0, size_of, &allowed);
        t
    }
}

fn run_pinned(system: System, spin: bool, size: usize, n: usize, rep: usize) -> f64 {
    let name = format!("bench-peers-{}-{}-{rep}", std::process::id(), system.name());
    match system {
        System::Ice => {
            let mut side = IceSide::new(&name, size, spin, true);
            let mut child = start_peer(system, spin, size, &name);
            side.recv(); // the peer is ready
            let t = timed(&mut side, n);
            side.send(END);
            child.wait().ok();
            t
        }
        System::Lend | System::Shared => {
            let provider = if system == System::Lend {
                Provider::Lend
            } else {
                Provider::Shared
            };
            let options = ServerOptions::new()
                .provider(provider)
                .session_arena_size(2 * size + 64 * MIB);
            let server = Server::open(&name, &options).unwrap_or_else(|e| die("server", e));
            let mut child = start_peer(system, spin, size, &name);
            let session = server
                .accept(Some(WAIT))
                .unwrap_or_else(|e| die("accept", e));
            let mut side = ShmipcSide::new(session, size, spin);
            side.recv(); // the peer is ready
            let t = timed(&mut side, n);
            drop(side); // the peer's recv fails: it ends
            child.wait().ok();
            t
        }
        System::Socket => {
            let path = std::env::temp_dir().join(&name);
            let listener = UnixListener::bind(&path).unwrap_or_else(|e| die("bind", e));
            let mut child = start_peer(system, spin, size, path.to_str().unwrap());
            let (stream, _) = listener.accept().unwrap_or_else(|e| die("accept", e));
            std::fs::remove_file(&path).ok();
            let t = timed(&mut SocketSide(stream), n);
            child.wait().ok();
            t
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn size_name(size: usize) -> String {
    match size {
        s if s >= MIB => format!("{} MiB", s / MIB),
        s if s >= 1024 => format!("{} KiB", s / 1024),
        s => format!("{s} B"),
    }
}

fn main() -> ExitCode {
    set_log_level(LogLevel::Error); // not "No config file was loaded" per process
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (n, reps) = match args[..] {
        ["--peer", system, mode, size, name] => {
            let size = size.parse().unwrap_or_else(|e| die("size", e));
            peer(System::parse(system), mode == "spin", size, name);
            return ExitCode::SUCCESS;
        }
        [] => (2000, 5),
        ["--quick"] => (200, 3),
        _ => {
            eprintln!("usage: bench_peers [--quick]");
            return ExitCode::from(2);
        }
    };
    println!(
        "shmipc {} vs iceoryx2 0.10 (Rust), {n} round trips x {reps} repetitions (median), \
         a payload each way, pinned to two cores; us per round trip",
        shmipc::version()
    );
    let systems = [System::Ice, System::Lend, System::Shared];
    for spin in [true, false] {
        println!(
            "\n{:<8} {:<6} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "size", "mode", "iceoryx2", "lend", "shared", "lend/ice", "shared/ice"
        );
        for size in SIZES {
            let mut times = vec![Vec::new(); systems.len()];
            for rep in 0..reps {
                for k in 0..systems.len() {
                    let i = (k + rep) % systems.len(); // rotate who runs first
                    times[i].push(run(systems[i], spin, size, n, rep));
                }
            }
            let [ice, lend, shared]: [f64; 3] = times
                .into_iter()
                .map(median)
                .collect::<Vec<_>>()
                .try_into()
                .unwrap();
            println!(
                "{:<8} {:<6} {:>10.2} {:>10.2} {:>10.2} {:>9.2}x {:>9.2}x",
                size_name(size),
                if spin { "spin" } else { "block" },
                ice / 1e3,
                lend / 1e3,
                shared / 1e3,
                lend / ice,
                shared / ice
            );
        }
    }
    let socket = median(
        (0..reps)
            .map(|rep| run(System::Socket, false, 1, n, rep))
            .collect(),
    );
    println!(
        "\nUnix-socket ping-pong (1 byte each way, pinned apart): {:.2} us",
        socket / 1e3
    );
    ExitCode::SUCCESS
}
