//! chaos_owner — an owner for the chaos driver (tests/chaos/run), in Rust: the twin of
//! chaos_owner.c (whose comment says what it does and prints), line for line the same.
//! Built as an example of `examples/rust` (not an example to copy).
//!
//!   chaos_owner NAME shared|lend SEED

use std::io::{Read, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use shmipc::{ErrorKind, Object, Provider, ReadOnly, Server, ServerOptions, Session};
use shmipc_examples::catalog::checksum;
use shmipc_examples::echo::{self, MSG_MAX};

const MAX_CLIENTS: usize = 64;
const MAX_UNANSWERED: u32 = 8;
const KEEP: usize = 4;
const TICK: Duration = Duration::from_millis(250);
const STOP: Duration = Duration::from_secs(30);

/// xorshift64, as tests/tap.h's rnd().
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(0x9e37_79b9_7f4a_7c15u64.wrapping_mul(seed.wrapping_add(1)))
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn bad(what: &str) -> ! {
    say(&format!("bad {what}"));
    std::process::exit(1);
}

fn used(arena: &shmipc::Arena) -> usize {
    arena.stats().map(|s| s.used).unwrap_or(0)
}

struct Client {
    session: Session,
    pid: u32,
    base: usize,
    unanswered: u32,
    answers: u32,
    quota: u32,
    bye: bool,
    kept: Vec<Option<Object<ReadOnly>>>,
}

struct Owner {
    server: Server,
    rng: Rng,
    clients: Vec<Client>,
    failed: bool,
    stopping: bool,
    app_base: Option<usize>,
    passes: u64,
    answers: u64,
    sessions: u64,
}

/// An answer must hold the bytes we lent for that size, reversed.
fn answer_ok(msg: &[u8], object: Option<&Object<ReadOnly>>) -> bool {
    let (Some(got), Some((n, hash))) = (object, echo::parse(msg, "sum")) else {
        return false;
    };
    let mut want = vec![0u8; got.len()];
    echo::fill(&mut want);
    want.reverse();
    got.len() as u64 == n && checksum(got) == hash && **got == want[..]
}

impl Owner {
    /// Mostly small objects, some of hundreds of KiB, now and then 2 MiB.
    fn random_size(&mut self) -> usize {
        let r = self.rng.below(100);
        if r < 70 {
            1 + self.rng.below(4096) as usize
        } else if r < 98 {
            4096 + self.rng.below(256 << 10) as usize
        } else {
            2 << 20
        }
    }

    /// Lend one "sum" object (a full arena skips). A client found gone is sent nothing
    /// more: what it sent before it went is still to be received (recv says Closed once
    /// nothing is queued).
    fn lend_one(&mut self, i: usize) -> shmipc::Result<()> {
        let n = self.random_size();
        let c = &mut self.clients[i];
        let arena = if self.rng.below(2) == 1 {
            c.session.app_arena()
        } else {
            c.session.arena()
        };
        let mut obj = match arena.new_object(n) {
            Err(e) if e.kind() == ErrorKind::OutOfMemory => return Ok(()),
            other => other?,
        };
        echo::fill(&mut obj);
        let msg = echo::format("sum", n as u64, checksum(&obj));
        match c.session.send_with(msg.as_bytes(), &obj.into_read_only()) {
            Ok(()) => c.unanswered += 1, // the loan holds it now
            Err(e) if e.kind() == ErrorKind::Closed => c.bye = true,
            Err(e) => return Err(e),
        }
        Ok(())
    }

    fn keep_or_drop(&mut self, i: usize, obj: Object<ReadOnly>) {
        let slot = self.rng.below(KEEP as u64) as usize;
        if self.rng.below(3) != 0 {
            return; // dropped
        }
        self.clients[i].kept[slot] = Some(obj);
    }

    fn take_answers(&mut self, i: usize) -> shmipc::Result<()> {
        let mut buf = [0u8; MSG_MAX];
        loop {
            let msg = match self.clients[i].session.recv(&mut buf, Some(Duration::ZERO)) {
                Err(e) if e.kind() == ErrorKind::TimedOut => return Ok(()),
                other => other?,
            };
            let text = &buf[..msg.len];
            if !answer_ok(text, msg.object.as_ref()) {
                let text = String::from_utf8_lossy(text);
                bad(&format!(
                    "answer from pid {}: '{text}'",
                    self.clients[i].pid
                ));
            }
            let c = &mut self.clients[i];
            c.unanswered -= 1;
            c.answers += 1;
            self.answers += 1;
            if let Some(obj) = msg.object {
                self.keep_or_drop(i, obj);
            }
        }
    }

    /// One step with one client; Err(Closed) (from recv: nothing queued) when it is gone.
    fn serve(&mut self, i: usize) -> shmipc::Result<()> {
        let c = &self.clients[i];
        if !c.bye && c.unanswered < MAX_UNANSWERED {
            self.lend_one(i)?;
        }
        self.take_answers(i)?;
        let stopping = self.stopping;
        let c = &mut self.clients[i];
        if !c.bye && (c.answers >= c.quota || stopping) {
            c.bye = true;
            match c.session.send(b"bye") {
                Err(e) if e.kind() != ErrorKind::Closed => return Err(e),
                _ => {}
            }
        }
        if self.rng.below(8) == 0 {
            let slot = self.rng.below(KEEP as u64) as usize;
            self.clients[i].kept[slot] = None;
        }
        Ok(())
    }

    /// The client went: drop what we kept of it, check the arenas, close the session.
    fn finish(&mut self, i: usize) {
        let mut c = self.clients.swap_remove(i);
        c.kept.clear();
        let (sa, aa) = (c.session.arena(), c.session.app_arena());
        let now = used(sa);
        let good = now == c.base && sa.check().is_ok() && aa.check().is_ok();
        say(&format!(
            "gone {} session {now}/{} check {}",
            c.pid,
            c.base,
            if good { "ok" } else { "FAILED" }
        ));
        self.failed |= !good;
        if self.clients.is_empty() {
            let (now, base) = (used(aa), self.app_base.unwrap_or(0));
            let good = now == base;
            say(&format!(
                "idle app {now}/{base} check {}",
                if good { "ok" } else { "FAILED" }
            ));
            self.failed |= !good;
        }
    }

    fn accept_new(&mut self) -> bool {
        if self.clients.len() == MAX_CLIENTS || self.stopping {
            return false;
        }
        let Ok(session) = self.server.accept(Some(Duration::ZERO)) else {
            return false;
        };
        let base = used(session.arena());
        if self.app_base.is_none() {
            self.app_base = Some(used(session.app_arena()));
        }
        let pid = session.peer_pid();
        let quota = 10 + self.rng.below(100) as u32;
        self.clients.push(Client {
            session,
            pid,
            base,
            unanswered: 0,
            answers: 0,
            quota,
            bye: false,
            kept: (0..KEEP).map(|_| None).collect(),
        });
        self.sessions += 1;
        say(&format!("accepted {pid}"));
        true
    }

    /// One pass over everything; whether anything happened.
    fn pass(&mut self) -> bool {
        let mut busy = self.accept_new();
        let mut i = 0;
        while i < self.clients.len() {
            let before = self.clients[i].answers;
            match self.serve(i) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Closed => {
                    self.finish(i);
                    busy = true;
                    continue;
                }
                Err(e) => bad(&format!("serving pid {}: {e}", self.clients[i].pid)),
            }
            busy |= self.clients[i].answers != before;
            i += 1;
        }
        self.passes += 1;
        busy
    }

    fn run(&mut self, stdin_closed: &AtomicBool) -> u8 {
        let (mut tick, mut stop_by) = (Instant::now(), None);
        loop {
            let busy = self.pass();
            if tick.elapsed() >= TICK {
                say(&format!("tick {} {}", self.passes, self.answers));
                tick = Instant::now();
            }
            if !self.stopping && stdin_closed.load(Ordering::Acquire) {
                self.stopping = true;
                stop_by = Some(Instant::now() + STOP);
            } else if !busy {
                std::thread::sleep(Duration::from_millis(2));
            }
            if self.stopping && self.clients.is_empty() {
                break;
            }
            if stop_by.is_some_and(|t| Instant::now() > t) {
                say(&format!(
                    "bad stop: {} clients did not go within {} s",
                    self.clients.len(),
                    STOP.as_secs()
                ));
                return 1;
            }
        }
        say(&format!("stopped {} {}", self.sessions, self.answers));
        u8::from(self.failed)
    }
}

/// A flag set once stdin is closed (the driver's "stop").
fn watch_stdin() -> Arc<AtomicBool> {
    let closed = Arc::new(AtomicBool::new(false));
    let flag = closed.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        while matches!(std::io::stdin().read(&mut buf), Ok(n) if n > 0) {}
        flag.store(true, Ordering::Release);
    });
    closed
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (name, provider, seed) = match args.as_slice() {
        [name, p, seed] if p == "shared" || p == "lend" => match seed.parse::<u64>() {
            Ok(seed) => (name, p, seed),
            Err(_) => return usage(),
        },
        _ => return usage(),
    };
    let provider = if provider == "lend" {
        Provider::Lend
    } else {
        Provider::Shared
    };
    let options = ServerOptions::new()
        .provider(provider)
        .session_arena_size(32 << 20)
        .app_arena_size(64 << 20);
    let server = match Server::open(name, &options) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("chaos_owner: server_open: {e}");
            let unsupported = e.kind() == ErrorKind::NotSupported;
            return ExitCode::from(if unsupported { 77 } else { 3 });
        }
    };
    say(&format!("listening {name}"));
    let stdin_closed = watch_stdin();
    let mut owner = Owner {
        server,
        rng: Rng::new(seed),
        clients: Vec::new(),
        failed: false,
        stopping: false,
        app_base: None,
        passes: 0,
        answers: 0,
        sessions: 0,
    };
    ExitCode::from(owner.run(&stdin_closed))
}

fn usage() -> ExitCode {
    eprintln!("usage: chaos_owner NAME shared|lend SEED");
    ExitCode::from(3)
}
